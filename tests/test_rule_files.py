"""The bundled rule files: their examples pass, and authoring mistakes are refused by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cds_service.examples import run_examples
from cds_service.rulesets import RuleSet, load_rule_set
from cds_service.yamlfile import RuleFileError
from tests.conftest import RULES

DPYD = Path("pgx") / "dpyd-fluoropyrimidines.yaml"


def test_rule_file_examples(rule_set: RuleSet):
    results = run_examples(rule_set)
    assert len(results) >= 15
    failed = [f"{r.file.path.name}: {r.name}: {r.problems}" for r in results if not r.passed]
    assert failed == []


def test_a_wrong_expectation_fails(rule_set: RuleSet, tmp_path: Path):
    copy = edited(
        tmp_path,
        "cards: []\n\n  - name: No DPYD result",
        "cards: [{rule: dpyd-poor}]\n\n  - name: No DPYD result",
    )
    results = run_examples(copy)
    copy.close()
    assert [r.name for r in results if not r.passed] == ["Normal metabolizer gets no card"]


def test_prefetch_asks_for_every_pgx_code(rule_set: RuleSet):
    genomics = rule_set.knowledge.genomics
    for service in rule_set.services.values():
        for system, code in genomics.genotype_codes | genomics.phenotype_codes:
            assert f"{system}|{code}" in service.prefetch["pgx"]


def edited(tmp_path: Path, old: str, new: str) -> RuleSet:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / DPYD
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return load_rule_set(rules)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("activity_score: 1.5", "activity_scor: 1.5", "no attribute 'activity_scor'"),
        ("gene: DPYD\n        phenotype: Poor", "gene: 3012\n        phenotype: Poor", "not 3012"),
        ("activity_score: 1.5", 'activity_score: "1.5"', "takes a number"),
        ("{class: fluoropyrimidine}", "{class: taxane}", "'class' takes a drug class"),
        ("fact: pgx_missing", "fact: pgx_absent", "unknown fact 'pgx_absent'"),
        ("action: order-test", "action: order-lab", "a suggestion needs 'action'"),
    ],
)
def test_mistakes_name_file_and_rule(tmp_path: Path, old: str, new: str, message: str):
    with pytest.raises(RuleFileError) as caught:
        edited(tmp_path, old, new)
    assert caught.value.path.name == "dpyd-fluoropyrimidines.yaml"
    assert caught.value.rule
    assert message in str(caught.value)


def test_duplicate_rule_id(tmp_path: Path):
    with pytest.raises(RuleFileError, match="rule id also used"):
        edited(tmp_path, "- id: dpyd-poor\n", "- id: dpyd-poor-as0.5\n")


def test_broken_yaml_names_the_line(tmp_path: Path):
    with pytest.raises(RuleFileError) as caught:
        edited(tmp_path, "rules:\n", "rules:\n  - id: [unclosed\n")
    assert caught.value.line is not None
