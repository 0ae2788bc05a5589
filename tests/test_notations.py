"""Every notation in rules/knowledge/notations.yaml reads to its diplotype and phenotype.

Labs write the same result many ways; the table lists the ways the service promises to read,
and this test holds it to each one with the allele tables as they are now.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service import service
from cds_service.knowledge.tables import load_knowledge
from cds_service.protocol.yamlfile import load_yaml
from cds_service.ruleset.loader import load_rule_set
from tests.conftest import RULES, request_fixture
from tests.fixture_cases import TODAY

KNOWLEDGE = load_knowledge(RULES / "knowledge")
NOTATIONS = load_yaml(RULES / "knowledge" / "notations.yaml")["notations"]


@pytest.mark.parametrize("row", NOTATIONS, ids=[f"{n['gene']} {n['text']}" for n in NOTATIONS])
def test_notation_reads_as_the_table_says(row: dict):
    table = KNOWLEDGE.genomics.genes[row["gene"]]
    assert table is not None
    read = table.interpret(row["text"])
    assert read.unknown == ()
    assert read.phenotype == row["phenotype"]
    if "diplotype" in row:
        assert read.text == row["diplotype"]
    if "activity_score" in row:  # null: a copy number known only as a floor gives no score
        assert read.activity_score == row["activity_score"]


@pytest.mark.parametrize(
    "text",
    [
        "HLA-B*58",  # one field (serological B58): *58:01 or *58:02
        "HLA-B*58:01:01G/HLA-B*44:03",  # a G group may hold other two-field names
        "HLA-B*58:01:01:01N/HLA-B*44:03",  # a null allele is not expressed
        "HLA-B*15:02",  # another allele alone: the second one is not said
        "HLA-B*58:01/HLA-B*57:01+HLA-B*07:02",  # GL String alternatives that disagree
    ],
)
def test_hla_b_typings_that_do_not_say_whether_58_01_is_there_are_not_read(text: str):
    read = KNOWLEDGE.genomics.genes["HLA-B"].interpret(text)
    assert read.unknown != ()
    assert read.phenotype is None


@pytest.mark.parametrize(
    ("text", "phenotype"),
    [
        ("B/Cosenza", "Variable"),  # class II with class IV
        ("Seattle, Lodi, Modena, Ferrara II, Athens-like/Seattle", "Deficient"),  # class III
        ("Aachen/Aachen", "Deficient with CNSHA"),  # class I
        ("Santiago/Cosenza", "Deficient"),  # class I with class II: CPIC's Deficient
        ("Santiago de Cuba, Morioka/B", "Variable"),  # not Santiago: names are read whole
        ("Union,Maewo, Chinese-2, Kalo/A-", "Deficient"),
        ("Telti, Kobe/B", "Variable"),  # CPIC's name since 2023-09 ("Telti/Kobe" before)
        ("Mira d'Aire/B", "Normal"),  # class IV
    ],
)
def test_g6pd_alleles_beyond_the_guidelines_table_are_read_by_cpics_function(
    text: str, phenotype: str
):
    """CPIC's allele functionality table (as PharmCAT ships it) names the ~170 alleles that the
    guideline's own Table 1 does not: each is read with its function's phenotype."""
    read = KNOWLEDGE.genomics.genes["G6PD"].interpret(text)
    assert read.unknown == ()
    assert read.phenotype == phenotype


@pytest.mark.parametrize("text", ["Dagua", "B/Gidra", "Papua/A-"])
def test_a_g6pd_allele_of_uncertain_function_is_not_read(text: str):
    """CPIC gives no phenotype with an allele of uncertain function: it is not guessed."""
    read = KNOWLEDGE.genomics.genes["G6PD"].interpret(text)
    assert read.unknown != ()
    assert read.phenotype is None


def _two_variant_request(second: str) -> dict:
    """The c.1905+1G>A heterozygous patient with a second DPYD variant reported on its own."""
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    entries = body["prefetch"]["pgx"]["entry"]
    genotype = next(e["resource"] for e in entries if e["resource"]["id"].startswith("obs-geno"))
    other = copy.deepcopy(genotype)
    other["id"] = "obs-geno-second-variant"
    other["valueCodeableConcept"] = {"text": second}
    body["prefetch"]["pgx"]["entry"] = [{"resource": genotype}, {"resource": other}]
    return body


def _cards(body: dict) -> dict[str, Any]:
    rule_set = load_rule_set(RULES)
    try:
        response = service.call(
            rule_set.service_for("order-sign"), service.parse_request(body), rule_set, TODAY
        )
    finally:
        rule_set.close()
    return {c.source.topic.code: c for c in response.cards if c.source.topic}


def test_two_heterozygous_dpyd_variants_of_unknown_phase_read_as_in_trans():
    """c.1905+1G>A and c.2846A>T, each heterozygous: CPIC reads AS 0.5, and the card says why."""
    cards = _cards(_two_variant_request("DPYD c.2846A>T heterozygous"))
    card = cards["dpyd-poor-as0.5"]
    assert card.indicator == "critical"
    assert "phase unknown: read as on different chromosomes" in (card.detail or "")


def test_the_same_variant_reported_twice_is_not_two_variants():
    cards = _cards(_two_variant_request("c.1905+1G>A heterozygous"))
    assert "dpyd-intermediate-as1" in cards
    assert not any(code.startswith("dpyd-poor") for code in cards)
