"""Votes on Discord answers as an evaluation file: real questions become test data.

A question whose shown passages got more 👍 than 👎 becomes one line of the question-file format
``foreign-desk eval`` reads (``index.evaluate``): the passages shown are its answers, each by its
best sentence (the bold one), which the passage contains wherever a later index cuts it. Those
shown under "Less closely related:" were not offered as answers: they are listed in ``shown``
(``"less_related": true``), never among the answers. Votes on the same question (asked again,
other pages) are merged. 👎-only questions are counted, not exported: "not these passages" is no
answer. Pure functions over ``AnswerStore.votes()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from foreign_desk.bot.discord.answers import Shown, Vote
from foreign_desk.index.models import less_related_from

KIND = "feedback"
SHOWN_KEYS = ("rank", "title", "url", "source", "language", "less_related")
"""What a line says about each passage shown (the answers carry its words)."""


@dataclass
class Tally:
    """The votes on one question (as typed, spaces collapsed)."""

    question: str
    up: int = 0
    down: int = 0
    liked: dict[int, Shown] = field(default_factory=dict)
    """Passages shown with a 👍, by passage id."""
    answered: set[int] = field(default_factory=set)
    """Of ``liked``, those shown above "Less closely related:" on some page (pages kept before
    passages had levels read ``"strong"``: all of them)."""
    filters: list[dict[str, str]] = field(default_factory=list)


def tally(votes: Sequence[Vote]) -> list[Tally]:
    """Votes grouped by question, in the order the questions were first voted on."""
    found: dict[str, Tally] = {}
    for vote in votes:
        key = " ".join(vote.question.split()).casefold()
        entry = found.setdefault(key, Tally(" ".join(vote.question.split())))
        if vote.vote > 0:
            entry.up += 1
            entry.liked.update((s.passage_id, s) for s in vote.shown)
            page = sorted(vote.shown, key=lambda s: s.rank)
            entry.answered.update(s.passage_id for s in page[: less_related_from([s.match for s in page])])
        else:
            entry.down += 1
        used = {k: v for k, v in asdict(vote.filters).items() if v}
        if used and used not in entry.filters:
            entry.filters.append(used)
    return list(found.values())


def evaluation_lines(votes: Sequence[Vote]) -> list[dict[str, Any]]:
    """One question-file line per question with more 👍 than 👎."""
    lines = []
    for entry in tally(votes):
        if entry.up <= entry.down or not entry.answered:
            continue
        shown = sorted(entry.liked.values(), key=lambda s: (s.rank, s.passage_id))
        answers = [s for s in shown if s.passage_id in entry.answered]
        lines.append(
            {
                "question": entry.question,
                "answers": list(dict.fromkeys((s.highlight or s.text).strip() for s in answers)),
                "kind": KIND,
                "votes": {"up": entry.up, "down": entry.down},
                "shown": [
                    {
                        "rank": s.rank,
                        "title": s.title,
                        "url": s.url,
                        "source": s.source,
                        "language": s.language,
                        "less_related": s.passage_id not in entry.answered,
                    }
                    for s in shown
                ],
                **({"filters": entry.filters} if entry.filters else {}),
            }
        )
    return lines
