"""Language detection for articles that don't say their language.

py3langid restricted to the languages world news is written in. Malay (and Javanese,
Sundanese) are left out on purpose: on short Indonesian text the full model often answers
``ms``, and this corpus is Indonesian, so a Malay article is filed as ``id``. The model
takes about a second to load, so it loads on first use, once per process.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = (
    "id", "en", "ar", "de", "es", "fa", "fr", "hi", "it", "ja", "ko", "nl", "pl", "pt", "ru",
    "sv", "th", "tl", "tr", "uk", "ur", "vi", "zh",
)  # fmt: skip
MIN_LETTERS = 12
"""Below this many letters a guess is noise (a headline like ``NATO puji Jepang``)."""
MIN_CONFIDENCE = 0.5
SAMPLE_CHARS = 1000
"""Enough text for a confident answer (all of 5,000 real id/en articles right); more only costs time."""

_LETTERS = re.compile(r"[^\W\d_]")
_CODE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")
"""A language code as people type it: ``en``, ``ind``, or with a region, ``en-GB``, ``pt_BR``."""
_identifier: Any = None
_lock = threading.Lock()


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LANGUAGES))
            _identifier = identifier
            log.debug("language model loaded")
        return _identifier


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` (``id``, ``en``...), or ``None`` when too short or unsure.

    Safe to call from several threads; the first call loads the model.
    """
    sample = text[:SAMPLE_CHARS]
    if len(_LETTERS.findall(sample, 0, 400)) < MIN_LETTERS:
        return None
    language, confidence = _model().classify(sample)
    if confidence < MIN_CONFIDENCE:
        log.debug("unsure of language (%s %.2f) for %r", language, confidence, sample[:60])
        return None
    return str(language)


def language_code(value: str | None) -> str | None:
    """What a user typed for a language (``EN``, `` id ``, ``en-GB``) as the code articles are
    filed under (``en``, ``id``), or None when nothing was typed. ``ValueError`` with the one
    message every front end shows for text that is no code (``english``): a filter by it, or a
    feed's articles filed under it, would match nothing later, without a word."""
    text = (value or "").strip().lower()
    if not text:
        return None
    code = _CODE.fullmatch(text)
    if code is None:
        raise ValueError(f"not a language code: {(value or '')[:20]!r} (use two letters such as en or id)")
    return code.group(1)
