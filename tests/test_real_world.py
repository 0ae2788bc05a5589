"""Records as real exports come (fixtures/fhir/synthea-shaped/, shaped like Synthea's Bundles).

Transaction Bundles whose references are ``urn:uuid:`` fullUrls, diagnoses that are only
suspected or provisional, a Condition recorded at every visit, deceased patients, "secondary
malignant neoplasm" codes: each must give the cards a clinician expects, once.
"""

from __future__ import annotations

import json
from typing import Any

from cds_service.cli import main
from tests.conftest import FIXTURES, RULES

SHAPED = FIXTURES / "synthea-shaped"


def evaluate(capsys, name: str, *args: str) -> list[dict[str, Any]]:
    code = main(["--rules", str(RULES), "evaluate", str(SHAPED / name), "--json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)["cards"]


def topics(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def test_urn_uuid_references_reach_the_patient(capsys):
    """Every Condition's subject is urn:uuid:<patient>: the breast cancer must be seen."""
    cards = evaluate(capsys, "breast-transaction.json", "--hook", "patient-view")
    assert "oncotype-breast-finding-missing" in topics(cards)


def test_a_condition_recorded_at_every_visit_gives_one_card(capsys):
    cards = evaluate(capsys, "breast-transaction.json", "--hook", "patient-view")
    assert topics(cards).count("ecog-not-on-file") == 1, topics(cards)
    summaries = [card["summary"] for card in cards]
    assert len(summaries) == len(set(summaries)), summaries
    (ecog,) = [card for card in cards if card["source"]["topic"]["code"] == "ecog-not-on-file"]
    for visit in range(1, 4):  # the card cites each Condition that records the cancer
        assert f"c1e0a001-0000-4000-8000-00000000000{visit}" in ecog["detail"]


def test_suspected_and_provisional_diagnoses_are_not_diagnoses(capsys):
    cards = evaluate(capsys, "breast-transaction.json", "--hook", "patient-view")
    text = json.dumps(cards)
    assert "c1e0a001-0000-4000-8000-000000000004" not in text  # "Suspected lung cancer"
    assert "c1e0a001-0000-4000-8000-000000000005" not in text  # colon cancer, provisional
    assert "colon" not in text.lower()
    assert "lung" not in text.lower()
