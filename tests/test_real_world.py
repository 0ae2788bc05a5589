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


def test_secondary_malignant_neoplasm_of_the_colon_is_metastatic_disease(capsys):
    """SNOMED 94260004 (ICD-10 C78.5) on a T3 N0 MSS record: advanced, no Oncotype DX Colon."""
    cards = evaluate(capsys, "colon-secondary-transaction.json", "--hook", "patient-view")
    assert not [t for t in topics(cards) if t.startswith("oncotype-colon")], topics(cards)
    assert "goals-of-care-due" in topics(cards) or "goals-of-care-overdue" in topics(cards)


def test_secondary_neoplasm_of_a_lymph_node_stays_regional():
    from cds_service.knowledge.tables import load_knowledge

    advanced = load_knowledge(RULES / "knowledge").care.advanced.conditions
    assert advanced.by_words(["Secondary malignant neoplasm of liver"])
    assert not advanced.by_words(["Secondary malignant neoplasm of axillary lymph node"])


def test_a_deceased_patient_gets_no_forward_looking_card(capsys):
    """The same record with Patient.deceasedDateTime: no conversation or assay is due."""
    cards = evaluate(capsys, "colon-secondary-deceased-transaction.json", "--hook", "patient-view")
    assert cards == []


def test_every_card_of_one_answer_has_its_own_uuid(capsys):
    """Three findings missing for one cancer are three cards: a client tells them apart by uuid."""
    cards = evaluate(capsys, "breast-transaction.json", "--hook", "patient-view")
    assert len(cards) >= 3
    assert len({card["uuid"] for card in cards}) == len(cards)
