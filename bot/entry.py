"""The ``foreign-desk`` command's entry point, importing next to nothing itself: Ctrl-C while
the CLI is still importing (a second or more on a cold disk) says "interrupted" and exits 130,
as during a command, instead of a traceback through the imports."""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point (``python -m foreign_desk`` too)."""
    try:
        from foreign_desk.bot.cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    cli_main()
