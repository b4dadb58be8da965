"""Retrieval-quality evaluation: question files, "was it found?", recall@k and MRR.

A question file is JSON Lines, one question a line::

    {"question": "Who visited Japan?", "answers": ["Stoltenberg"], "gold_titles": [], "kind": "en-q/id-doc"}

``answers``, ``gold_titles`` and ``kind`` are optional; other keys (``article_url``, ``qid``)
are kept in :attr:`Question.meta`. A question is *found at rank r* when the r-th result's
passage text contains one of its answers, or that result's article title equals one of its
gold titles, both compared after :func:`normalize` (NFKC, straight quotes, casefold, every run
of whitespace as one space).

Everything here is pure except :func:`load_questions`, which reads the file it is given, and
:func:`evaluate`, which awaits the ``ask`` callable it is given, one question at a time.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from foreign_desk.index.errors import ForeignDeskError

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
DEFAULT_KIND = "default"
"""The kind of a question whose line names none."""
MAX_FILE_BYTES = 50_000_000
"""A question file's ceiling: 100,000 questions take about 30 MB."""

_QUOTES = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u201b": "'",  # ‛
        "\u2032": "'",  # ′
        "\u00b4": "'",  # ´
        "\u0060": "'",  # `
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u201f": '"',  # ‟
        "\u2033": '"',  # ″
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
    }
)
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
"""Soft hyphen, zero-width space, word joiner, BOM: invisible, and dropped by some readers."""
_WHITESPACE = re.compile(r"\s+")
_KNOWN_KEYS = frozenset({"question", "answers", "gold_titles", "gold_urls", "kind"})


class QuestionFileError(ForeignDeskError):
    """A question file cannot be read or a line of it is malformed."""


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question with what counts as finding it."""

    question: str
    answers: tuple[str, ...] = ()
    gold_titles: tuple[str, ...] = ()
    gold_urls: tuple[str, ...] = ()
    """Extension: the right article's URL, exactly (for sets whose titles are not unique)."""
    kind: str = DEFAULT_KIND
    line: int | None = None
    """1-based line in the file it was read from, for messages."""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The line's other keys (``article_url``, ``qid``, ...), untouched."""

    @property
    def answerable(self) -> bool:
        """Whether it names what finds it: one without (an off-topic probe) is asked but not
        scored, or every right "nothing relevant" would count as a miss."""
        return bool(self.answers or self.gold_titles or self.gold_urls)


class _ArticleLike(Protocol):
    title: str


class ResultLike(Protocol):
    """What :func:`found_rank` needs of a result: ``index.models.Result`` fits."""

    @property
    def text(self) -> str: ...

    @property
    def article(self) -> _ArticleLike: ...


def normalize(text: str) -> str:
    """Fold ``text`` for matching: NFKC, straight quotes, casefold, whitespace collapsed.

    Zero-width spaces, word joiners, byte-order marks and soft hyphens are removed first.
    """
    # Quotes first (NFKC turns ´ into a space and a combining accent, ″ into two primes), and
    # again after, for quotes NFKC makes out of compatibility characters.
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).translate(_QUOTES).casefold()
    # casefold can leave a few characters un-normalised; normalise again so both sides agree.
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", text).strip()


# -- reading question files -------------------------------------------------------------------


def _string_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise QuestionFileError(f"{where}: {key!r} must be a list of strings, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise QuestionFileError(f"{where}: {key!r} must hold non-empty strings, got {item!r}")
    return tuple(value)


def parse_question(raw: Any, where: str, line: int | None = None, max_chars: int | None = None) -> Question:
    """Check one decoded line and turn it into a :class:`Question`; ``where`` prefixes errors.

    A question over ``max_chars`` (the engine's ``search.max_question_chars``) is refused here,
    with its line, rather than by the engine midway through a run."""
    if not isinstance(raw, dict):
        raise QuestionFileError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    text = raw.get("question")
    if not isinstance(text, str) or not text.strip():
        raise QuestionFileError(f"{where}: 'question' must be a non-empty string")
    if max_chars is not None and len(text.strip()) > max_chars:
        raise QuestionFileError(
            f"{where}: the question is {len(text.strip()):,} characters long; at most {max_chars:,}"
        )
    kind = raw.get("kind", DEFAULT_KIND)
    if kind is None:
        kind = DEFAULT_KIND
    if not isinstance(kind, str) or not kind.strip():
        raise QuestionFileError(f"{where}: 'kind' must be a non-empty string, got {kind!r}")
    return Question(
        question=text.strip(),
        answers=_string_list(raw.get("answers"), "answers", where),
        gold_titles=_string_list(raw.get("gold_titles"), "gold_titles", where),
        gold_urls=_string_list(raw.get("gold_urls"), "gold_urls", where),
        kind=kind.strip(),
        line=line,
        meta={k: v for k, v in raw.items() if k not in _KNOWN_KEYS},
    )


def parse_questions(
    lines: Iterable[str], source: str = "<questions>", max_chars: int | None = None
) -> list[Question]:
    """Parse JSON Lines text (blank lines skipped); errors name ``source`` and the line number."""
    questions: list[Question] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{source}, line {number}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise QuestionFileError(f"{where}: JSON nested too deeply") from None
        except ValueError:  # an integer of thousands of digits (int_max_str_digits)
            raise QuestionFileError(f"{where}: a number in the JSON is too long") from None
        questions.append(parse_question(raw, where, number, max_chars))
    return questions


def load_questions(path: str | Path, max_chars: int | None = None) -> list[Question]:
    """Read a question file; a missing file, one over ``MAX_FILE_BYTES``, bad encoding, a
    malformed line, a question over ``max_chars`` or no questions is an error."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise QuestionFileError(f"question file not found: {path}") from None
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise QuestionFileError(
            f"{path}: larger than {MAX_FILE_BYTES:,} bytes, too large for a question file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    # Lines end at "\n" alone (JSON Lines): ``splitlines`` would also cut at U+2028, U+0085 and
    # the like, which JSON keeps unescaped inside strings (``json.dumps(ensure_ascii=False)``).
    questions = parse_questions(text.split("\n"), str(path), max_chars)
    if not questions:
        raise QuestionFileError(f"{path}: no questions in the file")
    return questions


# -- scoring -----------------------------------------------------------------------------------


def found_rank(question: Question, results: Sequence[ResultLike]) -> int | None:
    """1-based position of the first result that answers ``question``, or ``None``.

    A result answers when its passage text contains one of ``question.answers`` or its
    article title equals one of ``question.gold_titles`` (both after :func:`normalize`), or
    its article URL is one of ``question.gold_urls`` (exactly). A question with both
    ``answers`` and ``gold_urls`` needs both in one result: an answer in a passage of a gold
    article (a name the question asks for may also occur in articles that do not answer it).
    The position is the place in ``results``, not ``Result.rank``, so a paged answer is
    scored by what was shown. A question with neither answers nor gold titles is never found.
    """
    answers = [a for a in (normalize(a) for a in question.answers) if a]
    titles = {t for t in (normalize(t) for t in question.gold_titles) if t}
    urls = set(question.gold_urls)
    if not answers and not titles and not urls:
        return None
    for position, result in enumerate(results, start=1):
        if titles and normalize(result.article.title or "") in titles:
            return position
        in_gold = bool(urls) and getattr(result.article, "url", None) in urls
        if urls and not answers and in_gold:
            return position
        if answers and (in_gold or not urls):
            text = normalize(result.text or "")
            if any(answer in text for answer in answers):
                return position
    return None


def _scores(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, Any]:
    n = len(ranks)
    found = [r for r in ranks if r is not None]
    recall = {str(k): (sum(1 for r in found if r <= k) / n if n else 0.0) for k in ks}
    mrr = sum(1.0 / r for r in found) / n if n else 0.0
    return {"n": n, "recall": recall, "mrr": mrr}


def summarize(ranks: Sequence[tuple[Question, int | None]], ks: Sequence[int] = DEFAULT_KS) -> dict[str, Any]:
    """Recall@k for each ``k`` in ``ks``, MRR, the same per kind, and the misses.

    Returns ``{"n", "recall": {"1": .., "3": .., ...}, "mrr", "by_kind": {kind: {"n", "recall",
    "mrr"}}, "misses": [{"question", "rank"}]}``.

    * ``rank`` is a 1-based position or ``None`` (not in the results the engine returned), so
      MRR is over the top k the engine was asked for: a question not found adds 0.
      Recall@k for a ``k`` above that depth equals recall at the depth.
    * ``misses`` lists, in input order, every question **not found at rank 1** (not only those
      not found at all), since those are the ones worth reading when tuning; ``rank`` is where
      it was found, or ``None`` when it was not in the results at all.
    * An empty input gives zeros, never a division error.
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks!r}")
    for _, rank in ranks:
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
            raise ValueError(f"a rank must be a positive int or None, got {rank!r}")
    summary = _scores([rank for _, rank in ranks], ks)
    kinds: dict[str, list[int | None]] = {}
    for question, rank in ranks:
        kinds.setdefault(question.kind, []).append(rank)
    summary["by_kind"] = {kind: _scores(kinds[kind], ks) for kind in sorted(kinds)}
    summary["misses"] = [{"question": q.question, "rank": rank} for q, rank in ranks if rank != 1]
    return summary


async def evaluate(
    questions: Sequence[Question],
    ask: Callable[[str], Awaitable[Sequence[ResultLike]]],
    k: int,
    ks: Sequence[int] = DEFAULT_KS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Ask every question in turn (sequentially, so timings and load stay honest) and summarize
    the answerable ones (``Question.answerable``); the others are counted in ``unanswerable``.

    ``ask`` returns the engine's results for a question (asked for at least ``k``); only the
    first ``k`` count. ``progress(done, total)`` after each question.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranks: list[tuple[Question, int | None]] = []
    for done, question in enumerate(questions, 1):
        results = await ask(question.question)
        if question.answerable:
            ranks.append((question, found_rank(question, list(results)[:k])))
        if progress is not None:
            progress(done, len(questions))
    return summarize(ranks, ks) | {"unanswerable": {"n": len(questions) - len(ranks)}}
