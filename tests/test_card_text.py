"""What the prescriber reads: every card of every fixture is in a clinician's words.

Issue 13 (tried in the CDS Hooks Sandbox): a capecitabine order in tablets gave "2 {pill}", a
UCUM annotation shown as is, and internal names ("finding primary_tumor", "item
goals_of_care") reached the card text. This test sends every request fixture and fails if any
text a clinician reads (summary, detail, suggestion and action labels) holds a word in braces
(a UCUM annotation or a placeholder left unfilled) or an internal name: a snake_case key of a
fact type (``draft_med``) or a knowledge table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import FIXTURES, Client, request_fixture

NAMES = sorted(p.stem for p in (FIXTURES / "requests").glob("*.json"))
BRACES = re.compile(r"\{[^{}\s]*\}")
"""``{pill}``, ``{order.ingredient}``: never words a clinician writes."""
SNAKE = re.compile(r"(?<![\w/.:#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
"""``primary_tumor``, ``goals_of_care``, ``draft_med``: keys, not words (ids and URLs aside)."""
INTERNAL = ("product brief",)
"""Words of the project's own documents, not of a guideline."""


def _texts(card: dict) -> Iterator[tuple[str, str]]:
    yield "summary", card["summary"]
    yield "detail", card.get("detail") or ""
    for suggestion in card.get("suggestions") or ():
        yield "suggestion", suggestion["label"]
        for action in suggestion.get("actions") or ():
            yield "action", action.get("description") or ""


def problems(card: dict) -> list[str]:
    """What in the card's text a clinician should not read, with where it is."""
    found = []
    for where, text in _texts(card):
        found += [f"{where}: {m.group(0)!r}" for m in BRACES.finditer(text)]
        found += [f"{where}: {m.group(0)!r}" for m in SNAKE.finditer(text)]
        found += [f"{where}: {w!r}" for w in INTERNAL if re.search(rf"\b{re.escape(w)}\b", text)]
    return found


def test_the_check_finds_what_the_sandbox_showed():
    """The check itself can fail: the texts of the issue are caught, a clean card is not."""
    bad = {
        "summary": "start capecitabine at 2 {pill} twice daily",
        "detail": "finding primary_tumor",
    }
    assert problems(bad) == ["summary: '{pill}'", "detail: 'primary_tumor'"]
    assert problems({"summary": "item goals_of_care", "detail": "the product brief's interval"})
    assert problems({"summary": "start {order.ingredient} at 50%"}) == [
        "summary: '{order.ingredient}'"
    ]
    clean = {"summary": "start capecitabine at 750 mg twice daily (5 x 150 mg; 50%)"}
    assert problems(clean | {"detail": "Observation/obs-geno_x-1; https://x.org/a_b"}) == []


@pytest.mark.parametrize("name", NAMES)
def test_no_internal_name_or_annotation_in_any_card(client: Client, name: str):
    service = "/cds-services/oncology-" + name.rsplit(".", 1)[1]
    response = client.post(service, json=request_fixture(name))
    assert response.status_code == 200
    found = {
        card["source"]["topic"]["code"]: issues
        for card in response.json()["cards"]
        if (issues := problems(card))
    }
    assert found == {}
