"""Orders that name a regimen or a combination product are checked as their ingredients.

Order sets and pharmacy systems write "mFOLFOX6" or "tegafur/uracil", not fluorouracil: a DPYD
or UGT1A1 result must still be checked against them (rules/knowledge/drugs.yaml, ``contains``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.knowledge.tables import load_knowledge
from cds_service.protocol.yamlfile import RuleFileError
from tests.conftest import RULES, copy_rules, replace_in

KNOWLEDGE = load_knowledge(RULES / "knowledge")


@pytest.mark.parametrize(
    ("text", "ingredients"),
    [
        ("mFOLFOX6 day 1", ("fluorouracil", "oxaliplatin")),
        ("FOLFIRI every 14 days", ("fluorouracil", "irinotecan")),
        ("mFOLFIRINOX", ("fluorouracil", "irinotecan", "oxaliplatin")),
        ("XELOX", ("capecitabine", "oxaliplatin")),
        ("CapeOx cycle 3", ("capecitabine", "oxaliplatin")),
        ("NALIRIFOX", ("irinotecan liposome", "fluorouracil", "oxaliplatin")),
        ("irinotecan 180 mg/m2 (FOLFIRI)", ("fluorouracil", "irinotecan")),
        ("tegafur/uracil (UFT) 100 mg", ("tegafur",)),
        ("Teysuno 20 mg capsule", ("tegafur",)),
        ("S-1 40 mg", ("tegafur",)),
        ("floxuridine hepatic arterial infusion", ("floxuridine",)),
        ("capecitabine 500 mg", ("capecitabine",)),
    ],
)
def test_order_text_reads_as_its_ingredients(text: str, ingredients: tuple[str, ...]):
    drug = KNOWLEDGE.drugs.by_name(text)
    assert drug is not None
    assert KNOWLEDGE.drugs.components(drug) == ingredients


def test_every_fluoropyrimidine_form_is_in_the_class_dpyd_rules_read():
    fluoropyrimidines = set(KNOWLEDGE.drugs.classes["fluoropyrimidine"])
    for text in ("Teysuno", "UFT", "FUDR", "FOLFOX", "CAPOX", "FOLFIRINOX"):
        parts = KNOWLEDGE.drugs.components(KNOWLEDGE.drugs.by_name(text) or "")
        assert fluoropyrimidines & set(parts), text


def test_a_regimen_of_an_unknown_drug_is_refused_with_its_line(tmp_path: Path):
    rules = copy_rules(tmp_path)
    drugs = rules / "knowledge" / "drugs.yaml"
    replace_in(
        drugs, "contains: [fluorouracil, oxaliplatin]", "contains: [fluorouracil, oxalipaltin]"
    )
    with pytest.raises(RuleFileError, match="contains 'oxalipaltin'") as error:
        load_knowledge(rules / "knowledge")
    assert error.value.line is not None
