"""Credentials inside URLs, hidden from what people and logs read.

A feed may need a password or a key: ``https://user:pass@host/feed``, ``...?token=...``. The
URL is stored as given (it must be fetched), but every error message naming it and every log
line shows ``***`` in their place, so a log shared to ask for help, or a failure shown in
Discord, does not hand the feed's credentials on.
"""

from __future__ import annotations

import logging
import re

__all__ = ["HIDDEN", "HidingFormatter", "hide_secrets"]

HIDDEN = "***"

_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@'\"<>]+@")
_SECRET_PARAM = re.compile(
    r"([?&;](?:[\w.-]*[_.-])?(?:token|key|apikey|secret|password|passwd|pwd|pass|sig|signature|auth)=)"
    r"[^&;#\s'\"<>]+",
    re.IGNORECASE,
)


def hide_secrets(text: str) -> str:
    """``text`` with each URL's user name and password, and the values of its query parameters
    named like a secret (``token``, ``api_key``, ``password``, ``sig`` ...), written ``***``."""
    return _SECRET_PARAM.sub(rf"\g<1>{HIDDEN}", _USERINFO.sub(rf"\g<1>{HIDDEN}@", text))


class HidingFormatter(logging.Formatter):
    """Formats a log record, traceback included, with ``hide_secrets``: a URL reaches the log
    from many places (an exception's text, a library's own debug lines), not only our messages."""

    def format(self, record: logging.LogRecord) -> str:
        return hide_secrets(super().format(record))
