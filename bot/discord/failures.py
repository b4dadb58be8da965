"""What a server's members and managers are told of a failure.

What the server supplied is named in full: its feed's URL is not a feed, a page answered 404,
theirs to fix. The host's own trouble (its store or model, a bug met) is one generic line
(``error.host``): its text names the operator's files ("cannot write the vector file /srv/…")
and is none of a server's business; nor is advice to change the host's settings (an address
refused as private: "set allow_private_urls = true"), which a server's admins cannot follow. The
log keeps the detail; the operators (``host``, on their own server) read it in full, as they see
the data folder in ``/operator stats``.
A store merely busy (another process writing past the wait: ``store_busy``) is no trouble of the
host's: everyone reads ``error.busy``, to try again in a moment; so does a recorded failure that
quotes one (``busy_failure``: a poll's ``indexing failed: another process is writing…``).
"""

from __future__ import annotations

import sqlite3

from foreign_desk.index.errors import (
    ConfigError,
    EmbedderError,
    EmptyIndex,
    ForeignDeskError,
    StoreBusy,
    StoreError,
)
from foreign_desk.index.feeds import busy_failure, host_failure_at
from foreign_desk.index.fetch.ssrf import without_host_advice
from foreign_desk.index.sqlite import error_code

from .fetch_words import fetch_words
from .i18n import EN, Texts

HOST_ERRORS = (StoreError, EmbedderError, ConfigError)
"""Engine errors about the host itself, whatever their text says."""


def store_busy(error: BaseException) -> bool:
    """Whether ``error`` is a store another process holds past the wait: ``StoreBusy`` (the
    writer's lock), SQLite's busy timeout on a write (``database is locked``), or an error
    quoting a recorded one (``/admin ingest``'s ``indexing failed: another process is writing…``)."""
    if isinstance(error, StoreBusy):
        return True
    if isinstance(error, ForeignDeskError):
        return busy_failure(str(error))
    return isinstance(error, sqlite3.OperationalError) and error_code(error) == sqlite3.SQLITE_BUSY


def host_trouble(error: BaseException) -> bool:
    """Whether ``error`` is the host's (``HOST_ERRORS``, or one quoting a recorded host failure:
    ``/admin ingest``'s ``indexing failed: …``); nothing indexed yet is no trouble, and says so,
    nor is a busy store (``store_busy``)."""
    if isinstance(error, EmptyIndex) or store_busy(error):
        return False
    if isinstance(error, HOST_ERRORS):
        return True
    return isinstance(error, ForeignDeskError) and host_failure_at(str(error)) >= 0


def shown(text: str, tx: Texts = EN, *, host: bool = False) -> str:
    """``text`` (a recorded failure, or a line quoting one) as a server may read it: cut where a
    host failure begins, ``error.host`` in its place (``error.busy`` for a busy store), and
    without advice to change the host's settings ("set allow_private_urls = true"); all of it
    for the operators (``host``)."""
    if host:
        return text
    text = without_host_advice(text)
    at = host_failure_at(text)
    return text if at < 0 else text[:at] + tx("error.busy" if busy_failure(text) else "error.host")


def error_shown(error: BaseException, tx: Texts = EN, *, host: bool = False) -> str:
    """An expected error's text, ``error.busy`` for a busy store (its text names the lock file),
    or ``error.host`` for the host's trouble but to the operators, who alone read advice to
    change the host's settings, and a recorded failure in full (``shown``); a page or feed that
    could not be fetched in the reader's language (``fetch_words``)."""
    if host and busy_failure(str(error)):
        return str(error)
    if store_busy(error):
        return tx("error.busy")
    if host:
        return str(error)
    if host_trouble(error):
        return tx("error.host")
    return fetch_words(error, tx) or without_host_advice(str(error))
