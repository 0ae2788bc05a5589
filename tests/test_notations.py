"""Every notation in rules/knowledge/notations.yaml reads to its diplotype and phenotype.

Labs write the same result many ways; the table lists the ways the service promises to read,
and this test holds it to each one with the allele tables as they are now.
"""

from __future__ import annotations

import pytest

from cds_service.knowledge.tables import load_knowledge
from cds_service.knowledge.yamlfile import load_yaml
from tests.conftest import RULES

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
