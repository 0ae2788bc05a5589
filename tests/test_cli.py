"""``cds-service evaluate``: a request or a patient Bundle through the rules, printed."""

from __future__ import annotations

import json

from cds_service.cli import main
from tests.conftest import FIXTURES, RULES


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--rules", str(RULES), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_request_prints_the_card(capsys):
    code, out, _ = run(
        capsys, "evaluate", str(FIXTURES / "requests/dpyd-2a-13-capecitabine.order-sign.json")
    )
    assert code == 0
    assert "[CRITICAL] DPYD poor metabolizer: avoid capecitabine" in out
    assert "rule:   dpyd-poor" in out
    assert "suggestion (recommended): Cancel the capecitabine order" in out


def test_bundle_with_order(capsys):
    bundle = FIXTURES / "bundles/dpyd-c2846-het-fluorouracil.json"
    code, out, _ = run(capsys, "evaluate", str(bundle), "--order", "4492", "--json")
    assert code == 0
    (card,) = json.loads(out)["cards"]
    assert card["source"]["topic"]["code"] == "dpyd-intermediate-as1.5"


def test_bundle_without_a_result_asks_for_the_test(capsys):
    bundle = FIXTURES / "bundles/dpyd-untested-capecitabine.json"
    code, out, _ = run(
        capsys, "evaluate", str(bundle), "--order", "Xeloda", "--hook", "order-select"
    )
    assert code == 0
    assert "No DPYD result on file" in out


def test_bundle_needs_an_order(capsys):
    code, _, err = run(capsys, "evaluate", str(FIXTURES / "bundles/no-oncology.json"))
    assert code == 2
    assert "--order" in err


def test_invalid_request_is_an_error_not_a_trace(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hook": "order-sign", "context": {}}')
    code, _, err = run(capsys, "evaluate", str(bad))
    assert code == 1
    assert "hookInstance" in err
    assert "Traceback" not in err
