"""The worked examples of rules/README.md do what the README says, on a copy of rules/."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest

from cds_service import service
from cds_service.facts import schema
from cds_service.offline.examples import run_examples
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import load_rule_set
from tests.conftest import DPYD, RULES, copy_rules, fixture_json, replace_in, request_fixture

README = (RULES / "README.md").read_text(encoding="utf-8")
ADDITION = re.compile(
    r'<!-- worked-example-3: (?P<path>\S+)(?: after "(?P<anchor>[^"]+)")? -->\n'
    r"```yaml\n(?P<text>.*?)```",
    re.S,
)


def apply_worked_example_3(rules: Path) -> None:
    """Each marked YAML block of example 3: a new file, or lines put under an existing key."""
    additions = list(ADDITION.finditer(README))
    assert len(additions) == 2
    for addition in additions:
        path = rules / addition["path"]
        if addition["anchor"] is None:
            path.write_text(addition["text"], encoding="utf-8")
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at = lines.index(addition["anchor"] + "\n") + 1
        path.write_text("".join([*lines[:at], addition["text"], *lines[at:]]), encoding="utf-8")


@pytest.fixture
def with_g6pd(tmp_path: Path) -> RuleSet:
    rules = copy_rules(tmp_path)
    apply_worked_example_3(rules)
    return load_rule_set(rules)


def test_example_3_passes_check_and_its_examples(with_g6pd: RuleSet):
    results = [r for r in run_examples(with_g6pd) if r.file.id == "pgx.g6pd-pegloticase"]
    assert [(r.name, r.passed) for r in results] == [
        ("G6PD deficient and pegloticase", True),
        ("G6PD normal and pegloticase gets no card", True),
    ]
    assert all(r.passed for r in run_examples(with_g6pd))  # nothing else broke
    with_g6pd.close()


def test_example_3_reads_a_real_g6pd_result(with_g6pd: RuleSet):
    """A lab's G6PD phenotype Observation and a Krystexxa order give the critical card."""
    body = request_fixture("cyp2d6-conflict-tamoxifen.order-sign")
    observation = copy.deepcopy(
        next(
            e["resource"]
            for e in fixture_json("bundles/cyp2d6-conflict-tamoxifen.json")["entry"]
            if e["resource"]["id"] == "obs-pheno-cyp2d6-conflict-tamoxifen-cyp2d6"
        )
    )
    observation["id"] = "g6pd-phenotype"
    del observation["derivedFrom"]
    for component in observation["component"]:
        code = component["code"]["coding"][0]["code"]
        if code == "48018-6":
            component["valueCodeableConcept"] = {
                "coding": [{"system": "http://www.genenames.org", "code": "HGNC:4057"}]
            }
        elif code == "therapeutic-implication":
            component["valueCodeableConcept"] = {"text": "G6PD Deficient"}
        else:
            component["valueCodeableConcept"] = {"text": "pegloticase"}
    body["prefetch"]["pgx"]["entry"].append({"resource": observation})
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {"text": "Krystexxa 8 mg infusion"}
    response = service.call(
        with_g6pd.service_for("order-sign"),
        service.parse_request(body),
        with_g6pd,
        date(2026, 11, 21),
    )
    with_g6pd.close()
    topics = {card.source.topic.code: card for card in response.cards if card.source.topic}
    card = topics["g6pd-deficient-pegloticase"]
    assert (card.indicator, card.summary) == (
        "critical",
        "G6PD deficient: do not give pegloticase (acute hemolysis, methemoglobinemia)",
    )
    assert "Observation/g6pd-phenotype" in (card.detail or "")


def test_example_2_rewording_fails_the_old_example_until_it_is_updated(tmp_path: Path):
    rules = copy_rules(tmp_path)
    old = '"DPYD poor metabolizer: avoid {order.ingredient}; no dose has been shown safe"'
    new = (
        '"DPYD poor metabolizer: do not give {order.ingredient}; '
        'choose a non-fluoropyrimidine regimen"'
    )
    replace_in(rules / DPYD, old, new)
    reworded = load_rule_set(rules)
    failed = [r.name for r in run_examples(reworded) if not r.passed]
    reworded.close()
    assert failed == ["*2A/*13 (AS 0) and capecitabine"]
    replace_in(rules / DPYD, '"avoid capecitabine"', '"do not give capecitabine"')
    fixed = load_rule_set(rules)
    assert all(r.passed for r in run_examples(fixed))
    fixed.close()


def test_every_fact_attribute_is_documented():
    """An informaticist learns what a condition can test from rules/README.md alone."""
    rows = README[README.index("### Facts a condition can test") : README.index("### The card")]
    for kind, attributes in schema().items():
        assert f"| `{kind}` |" in rows, kind
        for attribute in attributes:
            assert f"`{attribute}`" in rows, f"{kind}.{attribute}"
