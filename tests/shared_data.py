"""Where the real public data is (../shared/data, read in place), for the tests that need it.

Those tests are skipped, with the reason, on a machine that does not have the data; everywhere
else (this workplace and its CI) they run and can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.quality.common import DATA_ENV, DataMissing, data_dir

try:
    SHARED_DATA: Path | None = data_dir()
    WHY = ""
except DataMissing as exc:
    SHARED_DATA = None
    WHY = f"{exc}; these tests read the real data in place (set ${DATA_ENV})"

requires_shared_data = pytest.mark.skipif(SHARED_DATA is None, reason=WHY)
