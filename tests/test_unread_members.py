"""Members no reader reads are left out of validation (issue 17): the cards prove it.

A resource's narrative, business identifiers, own extensions, ``meta`` other than its profiles,
the members no module names (who performed or asked for something, where, a Patient's contact
details) and those named only as something else's (``category``, ``method``, ``stage``) are not
validated (``protocol/fhir.py``: ``UNREAD``). That is safe only while no reader reads them; if
one ever does, some fixture's cards change when they are removed, or the module that names one
is found, and this fails.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from cds_service import service
from cds_service.protocol import fhir
from cds_service.protocol.outcomes import ClientError
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import FIXTURES, TODAY, request_fixture

NAMES = sorted(p.stem for p in (FIXTURES / "requests").glob("*.json"))
PACKAGE = Path(fhir.__file__).resolve().parent.parent


ADDED = {
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
    "identifier": [{"system": "urn:example:unread", "value": "42"}],
    "extension": [{"url": "http://example.org/unread", "valueString": "unread"}],
}
META_ADDED = {"lastUpdated": "2026-01-02T03:04:05Z", "source": "urn:example:unread"}


def varied(request: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The request with every resource's unread members replaced by others, and how many
    members sent were removed."""
    request = copy.deepcopy(request)
    removed = 0

    def vary(resource: Any) -> None:
        nonlocal removed
        if not isinstance(resource, dict):
            return
        if resource.get("resourceType") == "Bundle":
            for entry in resource.get("entry") or ():
                vary(entry.get("resource") if isinstance(entry, dict) else None)
            return
        read = fhir.read_members(resource)
        removed += sum(1 for name in resource if name not in read)
        removed += "meta" in read and read["meta"] != resource["meta"]
        meta = read.get("meta") if isinstance(read.get("meta"), dict) else {}
        resource.clear()
        resource.update(read | ADDED | {"meta": meta | META_ADDED})
        for inner in read.get("contained") or ():
            vary(inner)

    for value in (request.get("prefetch") or {}).values():
        vary(value)
    vary((request.get("context") or {}).get("draftOrders"))
    return request, removed


def cards(rule_set: RuleSet, request: dict[str, Any]) -> list[dict[str, Any]] | str:
    try:
        parsed = service.parse_request(request)
        chosen = rule_set.service_for(parsed.hook)
        assert chosen is not None
        answer = service.call(chosen, parsed, rule_set, TODAY)
    except ClientError as error:
        return f"{error.status} {error}"
    return [_copies_unread_removed(card.wire()) for card in answer.cards]


def _copies_unread_removed(card: dict[str, Any]) -> dict[str, Any]:
    """A suggestion that changes an order sends the order back whole, as it was sent: there,
    and only there, the members no reader reads are expected to differ."""
    for suggestion in card.get("suggestions") or ():
        for action in suggestion.get("actions") or ():
            resource = action.get("resource")
            if isinstance(resource, dict):
                for name in fhir.UNREAD:
                    resource.pop(name, None)
                for name in META_ADDED:
                    resource.get("meta", {}).pop(name, None)
    return card


@pytest.mark.parametrize("name", NAMES)
def test_cards_are_the_same_whatever_the_members_no_reader_reads_hold(rule_set: RuleSet, name: str):
    request = request_fixture(name)
    assert cards(rule_set, varied(request)[0]) == cards(rule_set, request)


def test_the_fixtures_also_carry_unread_members_of_their_own():
    """Some fixtures' own narratives, identifiers, extensions and meta are removed above."""
    removed = [varied(request_fixture(name))[1] for name in NAMES]
    assert sum(1 for count in removed if count) >= 10


def test_a_wrong_narrative_no_longer_makes_a_resource_unreadable():
    genotype = request_fixture("dpyd-c1905-het-capecitabine.order-sign")["prefetch"]["pgx"]
    resource = genotype["entry"][0]["resource"]
    resource["text"] = {"status": "not-a-status", "div": 42}
    resource["identifier"] = [{"system": 7}]
    assert fhir.validate(resource).status == "final"
    with pytest.raises(fhir.InvalidResource):
        fhir.validate({**resource, "subject": "Patient/x"})  # a member a reader reads


WRONG_UNREAD = {
    "text": {"status": "generated", "div": 42},
    "identifier": [{"system": 7}],
    "extension": ["not an extension"],
    "performer": [{"reference": ["Practitioner/x"]}],
    "category": [5],
}
"""Members no reader reads, each holding a JSON type FHIR does not allow there (in lists, as
FHIR has them: a lone item would be a repair, which this test is not about)."""


def test_wrong_unread_members_leave_a_resource_read_as_before_through_the_service(
    rule_set: RuleSet,
):
    """A resource is read member by member (``prefetch/reading.py``): validation takes only
    the members a reader reads, so a broken narrative or identifier no longer makes a genotype
    "could not be read" and its dose card lose the activity score."""
    name = "dpyd-c1905-het-capecitabine.order-sign"
    sound = cards(rule_set, request_fixture(name))
    broken = request_fixture(name)
    broken["prefetch"]["pgx"]["entry"][0]["resource"].update(WRONG_UNREAD)
    assert cards(rule_set, broken) == sound
    assert any("(AS 1)" in card["summary"] for card in sound)


def test_a_wrong_member_a_reader_reads_still_makes_the_resource_unreadable(rule_set: RuleSet):
    name = "dpyd-c1905-het-capecitabine.order-sign"
    broken = request_fixture(name)
    genotype = broken["prefetch"]["pgx"]["entry"][0]["resource"]
    genotype.update(WRONG_UNREAD, subject=["Patient/pt-dpyd-c1905-het"])  # one, not a list
    summaries = [card["summary"] for card in cards(rule_set, broken)]
    assert any(f"{fhir.reference_of(genotype)} could not be read" in s for s in summaries)


def test_no_module_names_a_member_left_out_for_being_named_nowhere():
    """A reader reads a member as an attribute of the model (``observation.performer``) or by
    its name (``resource.get("performer")``): either names it. The one place allowed to is the
    list itself."""
    names = "|".join(sorted(fhir.NAMED_NOWHERE))
    naming = re.compile(rf"\.({names})\b|[\"']({names})[\"']")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == "fhir.py" and path.parent.name == "protocol":
            start = text.index("NAMED_NOWHERE = frozenset(")
            text = text[:start] + text[text.index("\n)\n", start) :]
        found += [f"{path.relative_to(PACKAGE)}: {m.group(0)}" for m in naming.finditer(text)]
    assert found == []
    assert {"performer", "requester", "address"} <= fhir.NAMED_NOWHERE <= fhir.UNREAD


NAMED_AS_OTHERS = {
    "category": {
        "cards/render.py": 3,  # a suggested ServiceRequest's, from the rule file
        "facts/targeted.py": 4,  # a biomarker status's category, a fact attribute
        "knowledge/biomarkers.py": 1,
        "knowledge/genomicschemas.py": 1,
        "protocol/fhir.py": 1,
        "ruleset/cardchecks.py": 1,
        "ruleset/schemas.py": 2,
    },
    "method": {
        "auth/guard.py": 1,  # the HTTP request's
        "knowledge/genepanels.py": 2,  # the panel's method words, matched in a result's code
        "knowledge/oncologyschemas.py": 2,
        "observability/calls.py": 3,
        "protocol/fhir.py": 1,
    },
    "stage": {"observability/metrics.py": 1, "protocol/fhir.py": 2},  # a call's timing stages
}
"""Where each member named but not read as a resource's is named, and how many times, as read
when it was left out of validation."""


def test_members_named_only_as_something_elses_are_named_where_they_were():
    """A reader reading one (``observation.category``, ``resource.get("method")``) adds a place
    or a count: then it must be read again whether it can be left out of validation."""
    named = {}
    for member in sorted(fhir.NAMED_NOT_READ):
        naming = re.compile(rf"\.{member}\b|[\"']{member}[\"']")
        counts = {}
        for path in sorted(PACKAGE.rglob("*.py")):
            if found := len(naming.findall(path.read_text(encoding="utf-8"))):
                counts[path.relative_to(PACKAGE).as_posix()] = found
        named[member] = counts
    assert named == NAMED_AS_OTHERS
    assert fhir.NAMED_NOT_READ <= fhir.UNREAD
