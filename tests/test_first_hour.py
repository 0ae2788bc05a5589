"""An integrator's first hour: the README as pasted, and the command line as a shell runs it.

Every command here runs the installed ``cds-service`` console script (or ``./dev``) in a
subprocess, so what is checked is what a terminal shows: exit codes, stderr, no traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, ROOT, RULES

BIN = Path(sys.executable).parent
CDS_SERVICE = str(BIN / "cds-service")
REQUEST = FIXTURES / "requests/dpyd-2a-13-capecitabine.order-sign.json"
BUNDLE = FIXTURES / "bundles/dpyd-c2846-het-fluorouracil.json"


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CDS_SERVICE, "--rules", str(RULES), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def _readme_block(heading: str) -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    return section.split("\n## ", 1)[0]


def test_readme_evaluate_examples_work_as_pasted():
    commands = [
        line
        for line in re.findall(r"```sh\n(.*?)```", _readme_block("Try it"), re.S)[1].splitlines()
        if line.strip()
    ]
    assert len(commands) == 3
    for command in commands:
        # as pasted into a shell at the clone's root, after ./dev made .venv (here: this venv)
        shown = command.replace(".venv/bin/", f"{BIN}/", 1)
        assert shown != command, "the README should run the venv's script by its path"
        done = subprocess.run(
            ["bash", "-c", shown], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stderr)
        assert "card" in done.stdout


def test_readme_says_the_fixture_cards_are_as_of_their_day_and_how_to_run_the_image():
    try_it = _readme_block("Try it")
    assert "CDS_TODAY=2026-11-21" in try_it
    assert "CDS_TODAY=2026-11-21" in (FIXTURES / "README.md").read_text(encoding="utf-8")
    two = _readme_block("Two commands")
    assert "docker run --rm -p 127.0.0.1:8080:8080 oncology-pgx-cds" in two
    assert "--format docker" in two
    assert "docker run -p 8080" not in two  # every interface: not what the Dockerfile says


def test_version():
    done = cli("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"cds-service \d+\.\d+\.\d+\S*\n", done.stdout)


def test_every_serve_option_has_help_and_its_default_and_no_rest_markup():
    done = cli("serve", "--help")
    assert done.returncode == 0
    entries = re.split(r"\n  (?=--)", done.stdout.split("options:", 1)[1])[1:]
    options = {entry.split()[0] for entry in entries}
    assert options >= {"--host", "--port", "--workers", "--log-level", "--log-format"}
    for entry in entries:
        assert "(default: " in entry, entry
    for page in (cli("--help").stdout, done.stdout, cli("evaluate", "--help").stdout):
        assert "``" not in page
        assert ":func:" not in page


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"resourceType": "Patient", "id": "x"}', "is a FHIR Patient"),
        ('{"context": {}}', "has no 'hook'"),
        ("[1, 2]", "is a JSON list"),
        ("hello", "is not JSON"),
    ],
)
def test_evaluate_says_what_the_file_is(tmp_path, content, said):
    path = tmp_path / "input.json"
    path.write_text(content)
    done = cli("evaluate", str(path))
    assert done.returncode != 0
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_order_names_the_closest_known_drugs():
    done = cli("evaluate", str(BUNDLE), "--order", "capecitabne")
    assert done.returncode == 1
    assert "capecitabne" in done.stderr
    assert "did you mean capecitabine" in done.stderr
    assert "0 cards" not in done.stdout
    code = cli("evaluate", str(BUNDLE), "--order", "99999999")
    assert code.returncode == 1
    assert "99999999" in code.stderr


@pytest.mark.parametrize("option", [["--order", "capecitabine"], ["--hook", "order-select"]])
def test_bundle_options_with_a_request_are_an_error(option):
    done = cli("evaluate", str(REQUEST), *option)
    assert done.returncode == 2
    assert "are for a Bundle" in done.stderr


def test_piping_into_head_ends_quietly():
    done = subprocess.run(
        [
            "bash",
            "-c",
            f"{CDS_SERVICE} --rules {RULES} evaluate {BUNDLE} --order 4492 --json | head -1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "{\n"
    assert done.stderr == ""


def test_dev_skips_a_pyenv_shim_quietly(tmp_path):
    """A ``python3.12`` that is a pyenv shim without 3.12 is passed over without a word."""
    shim = tmp_path / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    function = re.search(r"^python_for_venv\(\) \{.*?^\}", (ROOT / "dev").read_text(), re.M | re.S)
    assert function is not None
    env = {**os.environ, "PATH": f"{tmp_path}:{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", f"{function[0]}\npython_for_venv"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip() in ("python3.11", "python3")
    assert done.stderr == ""


ORDER_CHECKS = {
    "pgx": "pharmacogenomic",
    "dosing": "carboplatin",
    "patient-factors/anthracyclines": "anthracycline",
    "patient-factors/trastuzumab-lvef": "LVEF",
    "patient-factors/trastuzumab-emtansine-lvef": "trastuzumab emtansine",
    "patient-factors/trastuzumab-deruxtecan-lvef": "trastuzumab deruxtecan",
    "patient-factors/pertuzumab-lvef": "pertuzumab",
    "patient-factors/performance-status": "performance status",
    "supportive-care/fertility-preservation": "fertility",
    "biomarkers/targeted-orders": "targeted therapy",
    "biomarkers/driver-orders": "the biomarker a targeted therapy needs",
    "biomarkers/nsclc-chemotherapy-with-driver": "advanced NSCLC",
    "assays/oncotype-dx-breast-orders": "Oncotype DX",
    "assays/oncotype-dx-breast-test-orders": "genomic assay orders",
    "data-quality": "could not read",
}
"""Each rule file or folder served at order entry, and the words discovery must say it with."""


def test_discovery_of_the_order_services_names_all_they_check():
    services = yaml.safe_load((RULES / "services.yaml").read_text(encoding="utf-8"))["services"]
    served = {
        str(path.relative_to(RULES).with_suffix(""))
        for path in RULES.rglob("*.yaml")
        if "order-sign"
        in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("meta", {}).get("hooks", [])
    }
    # every rule file of the order hooks is one ORDER_CHECKS names (so a new one is not missed)
    assert all(any(f.startswith(k) for k in ORDER_CHECKS) for f in served), served
    for service in services:
        if service["hook"] in ("order-select", "order-sign"):
            said = service["title"] + " " + service["description"]
            for words in ORDER_CHECKS.values():
                assert words.lower() in said.lower(), (service["id"], words)


def test_serve_with_workers_on_an_invalid_rule_set_says_why_without_a_traceback(tmp_path):
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "services.yaml").write_text("services: [\n")
    done = subprocess.run(
        [CDS_SERVICE, "--rules", str(broken), "serve", "--port=0", "--workers=2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "error: the rule set is invalid" in done.stderr
    assert "Traceback" not in done.stderr
