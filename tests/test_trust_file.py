"""The trust file is checked at start-up, and each problem names its line (as rule files do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service.auth.trust import TrustFileInvalid, load_trust
from tests.jwtkit import Signer

GOOD = "clients:\n  - iss: https://ehr.example.org\n    jwks_file: ehr.jwks.json\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    signer = Signer("ES384", kid="k1")
    (tmp_path / "ehr.jwks.json").write_text(json.dumps({"keys": [signer.jwk()]}))
    private = {**signer.jwk(), "d": "AAAA"}
    (tmp_path / "private.jwks.json").write_text(json.dumps({"keys": [private]}))
    return tmp_path


def problems(folder: Path, text: str) -> list[tuple[int | None, str]]:
    (folder / "trust.yaml").write_text(text)
    with pytest.raises(TrustFileInvalid) as raised:
        load_trust(folder / "trust.yaml")
    return [(problem.line, problem.message) for problem in raised.value.problems]


def test_a_good_file_gives_each_client_its_keys_and_the_default_algorithms(folder: Path):
    (folder / "trust.yaml").write_text(GOOD)
    (client,) = load_trust(folder / "trust.yaml").values()
    assert list(client.keys) == ["k1"]
    assert client.algorithms == ("ES384", "RS384")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD.replace("jwks_file", "jwks_fil"), 3, "unknown field 'jwks_fil'"),
        (GOOD.replace("ehr.jwks.json", "private.jwks.json"), 3, "private key"),
        (GOOD.replace("ehr.jwks.json", "missing.json"), 3, "cannot read"),
        (GOOD + "    algorithms: [none]\n", 4, "'none' is not allowed"),
        (GOOD + "    jku: [ftp://ehr.example.org/k]\n", 4, "not an http(s) URL"),
        (GOOD + GOOD.removeprefix("clients:\n"), 4, "listed twice"),
        ("clients: []\n", 1, "at least one"),
        ("clients:\n  - iss: https://a\n    iss: https://b\n    jku: [https://a/k]\n", 3, "twice"),
    ],
)
def test_each_problem_names_its_line(folder: Path, text: str, line: int, words: str):
    ((found_line, message),) = problems(folder, text)
    assert words in message
    assert found_line == line
