"""Foreign Desk: the one top-level name the distribution installs.

The code lives in the repository's top-level folders ``index/`` (the engine) and ``bot/`` (the
CLI and the Discord bot); ``pyproject.toml`` maps them here as ``foreign_desk.index`` and
``foreign_desk.bot`` (setuptools ``package-dir``), so no other distribution's ``index`` or
``bot`` package can shadow them, or be shadowed.
"""

from foreign_desk.index.threads import configure_blas

configure_blas()  # before anything imports numpy
