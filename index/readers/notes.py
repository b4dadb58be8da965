"""What a reader says of a file it read anyway (read as Windows-1252, a value cut at ``' #'``).

Said at once, except while an indexing run reads: then each note is kept with the article it
is about, and the run says it as a warning only when it stages that article (new or changed).
A reindex of files that did not change would otherwise repeat the same warnings every day,
and a user learns to ignore warnings. The notes of an unchanged article are said at INFO
(``foreign-desk -v index`` shows them; ``index --full`` stages, and warns of, everything).

Kept per thread, and only for one step of a reader (``kept`` around one ``next``): an indexing
run may read each step of a file in another worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

Note = tuple[str, str]
"""(the logger's name, the message)."""

_here = threading.local()


def warn(logger: logging.Logger, message: str, *args: Any) -> None:
    """``logger.warning(message, *args)``, or kept when ``kept`` collects in this thread."""
    notes: list[Note] | None = getattr(_here, "notes", None)
    if notes is None:
        logger.warning(message, *args)
    else:
        notes.append((logger.name, message % args if args else message))


@contextmanager
def kept() -> Iterator[list[Note]]:
    """The notes ``warn`` is given in this thread inside the block, collected instead of said."""
    outer = getattr(_here, "notes", None)
    notes: list[Note] = []
    _here.notes = notes
    try:
        yield notes
    finally:
        _here.notes = outer


def say(notes: Iterable[Note], *, again: bool = False) -> None:
    """Log ``notes`` as warnings, or at INFO when they are ``again`` (their article unchanged)."""
    level = logging.INFO if again else logging.WARNING
    for name, text in notes:
        logging.getLogger(name).log(level, "%s", text)
