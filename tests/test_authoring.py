"""The author's tools: ``rules check``, ``rules test``, ``rules schema`` and ``replay``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.ruleset import schemas as ruleschema
from tests.conftest import DPYD, FIXTURES, RULES, copy_rules

AS15_DOSE = "      dose: {order: order, factor: 0.5}\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def rewrite(rules: Path, rule_id: str, old: str, new: str) -> None:
    """Replace ``old`` inside one rule's block only, as an author editing that rule would."""
    path = rules / DPYD
    text = path.read_text(encoding="utf-8")
    start = text.index(f"  - id: {rule_id}\n")
    end = min(i for i in (text.find("\n  - id: ", start + 1), text.index("\nexamples:")) if i > 0)
    block = text[start:end]
    assert old in block
    path.write_text(text[:start] + block.replace(old, new) + text[end:], encoding="utf-8")


def test_check_passes_on_the_bundled_rules(capsys):
    code, out = run(capsys, "rules", "check", str(RULES))
    assert code == 0
    assert "no problems" in out


def test_check_lists_every_problem_with_file_line_rule(capsys, tmp_path: Path):
    rules = copy_rules(tmp_path)
    rewrite(rules, "dpyd-intermediate-as1.5", "activity_score: 1.5", "activity_score: one")
    rewrite(rules, "dpyd-poor", "gene: DPYD", "gene: DPYDX")
    code, out = run(capsys, "rules", "check", str(rules), "--json")
    assert code == 1
    verdict = json.loads(out)
    assert verdict["valid"] is False
    found = [(Path(p["file"]).name, p["line"], p["rule"]) for p in verdict["problems"]]
    lines = (rules / DPYD).read_text(encoding="utf-8").splitlines()
    assert found == [
        (DPYD.name, lines.index("        activity_score: one") + 1, "dpyd-intermediate-as1.5"),
        (DPYD.name, lines.index("        gene: DPYDX") + 1, "dpyd-poor"),
    ]


def test_test_prints_pass_and_fail(capsys, tmp_path: Path):
    rules = copy_rules(tmp_path)
    rewrite(
        rules, "dpyd-intermediate-as1.5", AS15_DOSE, "      dose: {order: order, factor: 0.6}\n"
    )
    code, out = run(capsys, "rules", "test", str(rules))
    assert code == 1
    assert "FAIL  " in out
    assert "c.2846A>T heterozygous (AS 1.5) and fluorouracil" in out
    assert "no summary contains '1200 mg/m2'" in out
    assert "1 failed" in out
    code, out = run(capsys, "rules", "test", str(RULES))
    assert code == 0
    assert "0 failed" in out


def test_published_schemas_are_current():
    """An editor validates against rules/schema/: it must say what the service checks."""
    for name in ruleschema.SCHEMAS:
        published = (RULES / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
        assert published == ruleschema.render(name), f"run: cds-service rules schema ({name})"


def test_replay_shows_what_a_change_does(capsys, tmp_path: Path):
    """CPIC moves activity score 1.5 to a 25-50 % reduction: one card changes, nothing else."""
    rules = copy_rules(tmp_path)
    new_dose = "      dose: {order: order, factor: 0.5, up_to: 0.75}\n"
    rewrite(rules, "dpyd-intermediate-as1.5", AS15_DOSE, new_dose)
    rewrite(rules, "dpyd-poor", "indicator: critical", "indicator: warning")
    code, out = run(
        capsys,
        "replay",
        str(FIXTURES / "requests"),
        "--rules",
        str(rules),
        "--baseline",
        str(RULES),
        "--json",
    )
    assert code == 0
    changes = {o["request"].split("/")[-1]: o for o in json.loads(out)}
    as15 = changes["dpyd-c2846-het-fluorouracil.order-sign.json"]["changed"]
    assert [c["after"]["summary"] for c in as15] == [
        "DPYD intermediate metabolizer (AS 1.5): start fluorouracil at "
        "1200-1800 mg/m2 every 14 days (50-75%)"
    ]
    assert as15[0]["before"]["dose"] == "1200 mg/m2"
    assert as15[0]["after"]["dose"] is None  # a range leaves the choice to the prescriber
    poor = changes["dpyd-2a-13-capecitabine.order-sign.json"]["changed"]
    assert [(c["before"]["indicator"], c["after"]["indicator"]) for c in poor] == [
        ("critical", "warning")
    ]
    changed = {name for name, o in changes.items() if o["changed"] or o["added"]}
    assert changed == {  # the two rules' patients, and no one else
        "dpyd-c2846-het-fluorouracil.order-sign.json",
        "dpyd-2a-13-capecitabine.order-sign.json",
        "dpyd-2a-13-folfox.order-sign.json",
        "dpyd-2a-13-tegafur-uracil.order-sign.json",
    }


def test_replay_text_names_added_and_removed_cards(capsys, tmp_path: Path):
    rules = copy_rules(tmp_path)
    path = rules / DPYD
    path.write_text(
        path.read_text(encoding="utf-8").replace("dpyd-test-first", "dpyd-genotype-first"),
        encoding="utf-8",
    )
    code, out = run(
        capsys,
        "replay",
        str(FIXTURES / "requests" / "dpyd-untested-capecitabine.order-sign.json"),
        "--rules",
        str(rules),
        "--baseline",
        str(RULES),
    )
    assert code == 0
    assert "  + dpyd-genotype-first [warning] 'No DPYD result on file" in out
    assert "  - dpyd-test-first [warning] 'No DPYD result on file" in out
    assert out.rstrip().splitlines()[-1].startswith("1 request: 1 changed, 0 unchanged")
