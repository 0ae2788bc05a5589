"""A resource as read (``prefetch/reading.py``): each member shaped on first read, exactly as the
whole-resource walk shapes it; problems of the members read reported, the whole at validation."""

from __future__ import annotations

import copy
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cds_service.prefetch.reading import AsRead, Notes, _text_as_sent
from cds_service.prefetch.zones import with_zone, zoned_member
from cds_service.protocol import fhir
from cds_service.protocol.shape import conform, member
from tests.conftest import distinct_resources

CHICAGO = ZoneInfo("America/Chicago")


def weight(**changes: Any) -> dict[str, Any]:
    """A weight as an EHR sends it: ``coding`` as a lone object, a time without a zone."""
    resource = {
        "resourceType": "Observation",
        "id": "obs-weight",
        "status": "final",
        "code": {"coding": {"system": "http://loinc.org", "code": "29463-7"}},
        "subject": {"reference": "Patient/pt-1"},
        "effectiveDateTime": "2026-09-20T08:30:00",
        "valueQuantity": {"value": 71.5, "unit": "kg"},
    }
    resource.update(changes)
    return resource


def eager(resource: dict[str, Any]) -> Any:
    """What the whole-resource walk made of it before members were read one by one."""
    return conform(with_zone(resource, CHICAGO, {}, "Observation/obs-weight"))


def test_a_member_read_is_shaped_and_zoned_as_the_whole_walk_does_it():
    resource = weight()
    read = AsRead(resource, CHICAGO)
    assert read["code"] == {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}
    assert read.get("effectiveDateTime") == "2026-09-20T08:30:00-05:00"
    assert dict(read) == eager(resource)
    assert resource["code"]["coding"] == {"system": "http://loinc.org", "code": "29463-7"}


def test_a_member_of_the_wrong_type_is_a_problem_once_read():
    read = AsRead(weight(code=42), CHICAGO)
    assert read.problems == ()
    assert read.get("code") is None
    assert read.problems == ("code: expected an object, got a number",)


def test_a_member_no_reader_reads_is_no_problem_until_validation_reads_it():
    read = AsRead(weight(valueQuantity={"value": "heavy"}), CHICAGO)
    assert read.get("code") is not None
    assert read.problems == ()
    with pytest.raises(fhir.InvalidResource, match=r"valueQuantity\.value: expected a number"):
        fhir.validate(read)
    assert read.problems == eager(weight(valueQuantity={"value": "heavy"})).problems


def test_validation_sees_the_whole_resource_shaped():
    read = AsRead(weight(), CHICAGO)
    model = fhir.validate(read)
    assert model.code.coding[0].code == "29463-7"
    assert model.effectiveDateTime.utcoffset().total_seconds() == -5 * 3600


def test_notes_cover_every_member_of_a_cited_resource_and_follow_its_content():
    read = AsRead(weight(), CHICAGO)
    notes = Notes([read])
    assert notes["Observation/obs-weight"] == (
        "effectiveDateTime 2026-09-20T08:30:00 has no time zone (FHIR R4 requires one); "
        "read as 2026-09-20T08:30:00-05:00 (America/Chicago, CDS_TIMEZONE)",
        "code.coding was sent as one item, read as a list of one",
    )
    zoned = AsRead(weight(effectiveDateTime="2026-09-20T08:30:00Z"), CHICAGO)  # one character
    assert Notes([zoned])["Observation/obs-weight"] == (
        "code.coding was sent as one item, read as a list of one",
    )
    assert "Observation/other" not in notes


def test_notes_are_found_under_every_reference_as_sent_and_only_under_it():
    """The references a card cites are written by ``fhir.reference_of``: a type or an id as
    sent may hold a slash, an id may be missing or not a text, and two resources may share one
    reference (their notes then in the order sent)."""
    sent = [
        weight(resourceType="Obs/ervation", id="a"),
        weight(id="b/c"),
        weight(id=None),
        weight(id=7),
        weight(id="twice", effectiveDateTime="2026-09-21T08:30:00"),
        weight(id="twice"),
        weight(id="obs-weight", effectiveDateTime="2026-09-20T08:30:00Z"),
    ]
    notes = Notes([AsRead(resource, CHICAGO) for resource in sent])
    zone = "has no time zone"
    assert zone in notes["Obs/ervation/a"][0]
    assert zone in notes["Observation/b/c"][0]
    assert len(notes["Observation/(no id)"]) == 4  # two notes of each without a text id
    assert [note[:36] for note in notes["Observation/twice"] if zone in note] == [
        "effectiveDateTime 2026-09-21T08:30:0",
        "effectiveDateTime 2026-09-20T08:30:0",
    ]
    assert notes["Observation/obs-weight"] == (
        "code.coding was sent as one item, read as a list of one",
    )
    for absent in ("Obs/a", "Observation/a", "ervation/a", "Observation/c", "Observation/7"):
        assert absent not in notes
    assert list(notes) == [
        "Obs/ervation/a",
        "Observation/b/c",
        "Observation/(no id)",
        "Observation/twice",
        "Observation/obs-weight",
    ]


def test_copies_and_comparisons_see_the_whole_resource_shaped():
    resource = weight()
    read = AsRead(resource, CHICAGO)
    assert copy.deepcopy(read) == eager(resource)
    assert read == AsRead(copy.deepcopy(resource), CHICAGO)
    assert sorted(read) == sorted(eager(resource))
    assert len(read) == len(eager(resource))


def test_a_member_sent_again_is_read_as_it_was_the_first_time():
    """Members that read as sent are remembered by their text: the same text elsewhere must
    still give its repairs, problems and zone notes, and a clean one its value."""
    for _ in range(2):
        read = AsRead(weight(status=42), CHICAGO)
        assert read["subject"] == {"reference": "Patient/pt-1"}
        assert read["valueQuantity"] == {"value": 71.5, "unit": "kg"}
        assert "status" not in read
        assert read.problems
        assert dict(read) == eager(weight(status=42))
        assert len(read.notes) == 2  # the zone-less time and the lone coding, every time


def test_a_resource_read_in_parts_is_whole_in_the_order_sent():
    """A resource holds only the members read until it is walked in full: then every member,
    in the order sent, as the whole-resource walk gives them, and a member left out stays out."""
    resource = weight(status=42)
    read = AsRead(resource, CHICAGO)
    assert read.get("valueQuantity") == {"value": 71.5, "unit": "kg"}
    assert read.get("status") is None
    assert read.get("effectiveDateTime") == "2026-09-20T08:30:00-05:00"
    assert list(read) == list(eager(resource)) == [n for n in resource if n != "status"]
    assert list(read.items()) == list(eager(resource).items())
    assert read.problems == eager(resource).problems


def _text_members() -> dict[str, dict[str, set[str]]]:
    """Per resource type, the texts each member is sent with in the fixtures."""
    by_kind: dict[str, dict[str, set[str]]] = {}
    for resource in distinct_resources():
        members = by_kind.setdefault(resource["resourceType"], {})
        for name, value in resource.items():
            if isinstance(value, str):
                members.setdefault(name, set()).add(value)
    return by_kind


def _walked_as_sent(kind: str, name: str, text: str) -> bool:
    """Whether the walk gives the text back unchanged, with nothing to say."""
    notes: list[str] = []
    problems: list[str] = []
    repairs: list[str] = []
    kept, value = member(kind, name, zoned_member(name, text, CHICAGO, notes), problems, repairs)
    return kept and value == text and not (notes or problems or repairs)


def test_a_text_read_as_sent_is_exactly_what_the_walk_gives():
    """Texts are tested, not walked: most first reads are of a text, and a new patient's times
    are all new. Whatever the test lets through must be what the walk gives unchanged, with
    nothing to say: tried with every text of a type in each of its members, and broken as
    clients break texts (no zone, no seconds, month 13, a space), in members that take no text
    or a list or are no member at all. And every text the fixtures send clean gets through."""
    tried = passed = 0
    for kind, members in sorted(_text_members().items()):
        texts = {text for found in members.values() for text in found}
        broken = {t[:19] for t in texts} | {t[:16] for t in texts} | {t + " " for t in texts}
        broken |= {t.replace("-", "-13-", 1) for t in texts} | {"", "12"}
        others = {"code", "category", "instantiatesUri", "valueInteger", "_status", "other"}
        for name in sorted(members.keys() | others):
            for text in sorted(texts | broken):
                as_sent = _text_as_sent(kind, name, text)
                assert _walked_as_sent(kind, name, text) or not as_sent, (kind, name, text)
                tried, passed = tried + 1, passed + as_sent
        for name, sent in members.items():
            for text in sent:
                assert _text_as_sent(kind, name, text) or not _walked_as_sent(kind, name, text)
    assert tried > 50_000
    assert passed > 20_000
