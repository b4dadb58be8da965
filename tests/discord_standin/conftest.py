"""Makes the stand-in fixtures available to the tests in this directory.

The suite-wide way is `pytest_plugins = ["tests.discord_standin.fixtures"]` in
`tests/conftest.py`; pytest only honours `pytest_plugins` in the top-level conftest, hence the
import here (harmless once the plugin is registered too).
"""

from .fixtures import client_options, standin, standin_config  # noqa: F401
