"""Figures of one set's outcomes, with bootstrap 95% confidence intervals.

An *outcome* is one question as asked: its kind, tags and split, where the answer shown
contained it (``rank``, 1-based, ``None`` when not in the top k), how the answer was labelled
(``match``: ``strong``, ``weak`` or ``none``), and where the plain dense baseline found it
(``baseline_rank``). What the user is shown counts: a weak answer whose passages hold the
answer is found; a "none" answer shows nothing and finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Outcome = dict[str, Any]
MATCHES = ("strong", "weak", "none")
BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95


def _hit(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def _reciprocal(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def interval(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (questions resampled)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(BOOTSTRAP_SAMPLES, data.size))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return (round(float(lo), 4), round(float(hi), 4))


def estimate(values: Sequence[float]) -> dict[str, Any]:
    """The mean and its 95% interval."""
    mean = float(np.mean(values)) if len(values) else 0.0
    return {"value": round(mean, 4), "ci95": list(interval(values))}


def retrieval(ranks: Sequence[int | None]) -> dict[str, Any]:
    """R@1, R@5, R@10 and MRR (over the top 10) of a list of found positions."""
    return {
        "r1": estimate([_hit(r, 1) for r in ranks]),
        "r5": estimate([_hit(r, 5) for r in ranks]),
        "r10": estimate([_hit(r, 10) for r in ranks]),
        "mrr": estimate([_reciprocal(r) for r in ranks]),
    }


def match_rates(outcomes: Sequence[Outcome]) -> dict[str, float]:
    n = max(len(outcomes), 1)
    return {m: round(sum(1 for o in outcomes if o["match"] == m) / n, 4) for m in MATCHES}


def answerable(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of answerable questions: the product's, the baseline's, the labels."""
    with_baseline = [o for o in outcomes if "baseline_rank" in o]
    return {
        "n": len(outcomes),
        **retrieval([o["rank"] for o in outcomes]),
        "match": match_rates(outcomes),
        "answered_none": match_rates(outcomes)["none"],
        "right_article_r5": round(
            sum(_hit(o.get("article_rank"), 5) for o in outcomes) / max(len(outcomes), 1), 4
        ),
        "baseline": retrieval([o["baseline_rank"] for o in with_baseline]) if with_baseline else None,
    }


def off_topic(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Off-topic questions: how often each label was given (a strong one is the failure)."""
    rates = match_rates(outcomes)
    return {
        "n": len(outcomes),
        "match": rates,
        "strong": estimate([o["match"] == "strong" for o in outcomes]),
    }


def grouped(
    outcomes: Sequence[Outcome], key: Callable[[Outcome], Sequence[str]]
) -> dict[str, dict[str, Any]]:
    """Short figures (n, R@1, R@5, baseline R@5, answered none) per group; a question may be in several."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        for name in key(outcome):
            groups.setdefault(name, []).append(outcome)
    out = {}
    for name in sorted(groups):
        items = groups[name]
        base = [o["baseline_rank"] for o in items if "baseline_rank" in o]
        out[name] = {
            "n": len(items),
            "r1": round(float(np.mean([_hit(o["rank"], 1) for o in items])), 4),
            "r5": round(float(np.mean([_hit(o["rank"], 5) for o in items])), 4),
            "baseline_r5": round(float(np.mean([_hit(r, 5) for r in base])), 4) if base else None,
            "answered_none": match_rates(items)["none"],
        }
    return out


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Every figure of one set: answerable, off-topic, and the answerable ones by kind and tag."""
    answer = [o for o in outcomes if o["kind"] != "off-topic"]
    off = [o for o in outcomes if o["kind"] == "off-topic"]
    return {
        "answerable": answerable(answer) if answer else None,
        "off_topic": off_topic(off) if off else None,
        "by_kind": grouped(answer, lambda o: [o["kind"]]),
        "by_tag": grouped(answer, lambda o: o.get("tags") or ["untagged"]),
        "off_topic_by_tag": {
            name: {"n": len(items), "match": match_rates(items)} for name, items in _by_tag(off).items()
        },
    }


def _by_tag(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        for tag in outcome.get("tags") or ["untagged"]:
            groups.setdefault(tag, []).append(outcome)
    return dict(sorted(groups.items()))
