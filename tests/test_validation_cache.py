"""The cache of validated resources answers for exact content only, never for an id."""

from __future__ import annotations

import copy
import gc
import weakref
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cds_service.prefetch.reading import AsRead
from cds_service.protocol import fhir
from tests.conftest import Client, request_fixture

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"


def genotype_of(request: dict[str, Any]) -> dict[str, Any]:
    return request["prefetch"]["pgx"]["entry"][0]["resource"]


def dpyd_summaries(client: Client, request: dict[str, Any]) -> list[str]:
    response = client.post(PATH, json=request)
    assert response.status_code == 200
    return [card["summary"] for card in response.json()["cards"] if "DPYD" in card["summary"]]


def test_content_sent_again_is_validated_at_most_twice(monkeypatch: pytest.MonkeyPatch):
    """Kept from its second validation on: a first call's resources, all new, cost no keeping."""
    resource = genotype_of(request_fixture(NAME))
    resource["id"] = "validated-twice"  # content no other test has sent
    validations = []
    real = fhir._validate
    monkeypatch.setattr(fhir, "_validate", lambda r: validations.append(1) or real(r))
    models = [fhir.validate(copy.deepcopy(resource)) for _ in range(4)]
    assert len(validations) == 2
    assert all(model == models[0] for model in models)
    assert models[3] is not models[2]  # each call its own copy: none can change what another reads


def test_a_resource_read_by_several_readers_of_a_call_is_validated_once(
    monkeypatch: pytest.MonkeyPatch,
):
    genotype = genotype_of(request_fixture(NAME))
    genotype["id"] = "read-by-several-readers"  # content no other test has sent
    resource = AsRead(genotype, ZoneInfo("UTC"))
    validations = []
    real = fhir._validate
    monkeypatch.setattr(fhir, "_validate", lambda r: validations.append(1) or real(r))
    assert fhir.validate(resource) is fhir.validate(resource)
    assert len(validations) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("subject", "reference"), "Patient/pt-dpyd-c1905-heu"),  # another patient
        (("valueCodeableConcept", "text"), "DPYD c.1905+1G>A/c.1905+1G>A"),  # a result amended
        (("effectiveDateTime",), "2026-09-19"),
    ],
)
def test_a_resource_changed_by_one_value_is_read_afresh(field: tuple[str, ...], value: str):
    original = genotype_of(request_fixture(NAME))
    changed = copy.deepcopy(original)
    *path, last = field
    target = changed
    for step in path:
        target = target[step]
    target[last] = value
    first, second = fhir.validate(original), fhir.validate(changed)
    assert second is not first
    assert second.model_dump(mode="json", exclude_none=True) == fhir.read_members(changed)
    assert fhir.read_members(changed) != fhir.read_members(original)  # the change is read


def test_an_invalid_resource_stays_invalid_and_its_valid_twin_does_not():
    valid = genotype_of(request_fixture(NAME))
    broken = {**copy.deepcopy(valid), "status": 42}
    for _ in range(2):
        with pytest.raises(fhir.InvalidResource):
            fhir.validate(broken)
    assert fhir.validate(valid).status == "final"


class _Call:
    """Stands for what a call holds (its request body) in the frame that asks for validation."""


def test_a_cached_refusal_does_not_keep_the_call_that_made_it_alive():
    """A refusal kept with its traceback would hold every frame of its call, the request body
    included, and in a cycle the collector cannot reach once the heap is frozen."""
    broken = {**genotype_of(request_fixture(NAME)), "status": 43}

    def asking(call: _Call) -> None:
        with pytest.raises(fhir.InvalidResource):
            fhir.validate(broken)

    call = _Call()
    gone = weakref.ref(call)
    gc.disable()  # freed by its count alone, as when the collector cannot reach it
    try:
        asking(call)
        del call
        assert gone() is None
    finally:
        gc.enable()


def test_content_json_cannot_hold_is_validated_without_the_cache():
    resource = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01", "x": {1, 2}}
    with pytest.raises(fhir.InvalidResource):
        fhir.validate(resource)


def test_a_second_patient_and_an_amended_result_get_their_own_cards(client: Client):
    """Through the service: cards follow the content sent, whatever was seen before."""
    heterozygous = request_fixture(NAME)
    (before,) = dpyd_summaries(client, heterozygous)
    normal = request_fixture(NAME)
    genotype_of(normal)["valueCodeableConcept"]["text"] = "DPYD Reference/Reference"
    after = dpyd_summaries(client, normal)
    assert before not in after
    assert dpyd_summaries(client, request_fixture(NAME)) == [before]


def test_a_resource_read_leniently_is_noted_at_every_call(client: Client):
    """Content read as sent is not walked again; content that needed a lenient reading is."""
    lone = request_fixture(NAME)
    order = lone["context"]["draftOrders"]["entry"][0]["resource"]
    order["reasonReference"] = order["reasonReference"][0]  # one object where FHIR has a list
    for _ in range(2):
        (card,) = [
            c for c in client.post(PATH, json=lone).json()["cards"] if "DPYD" in c["summary"]
        ]
        assert "**Read with care**" in card["detail"]
        assert "read as a list of one" in card["detail"]
    plain = request_fixture(NAME)
    for _ in range(2):
        (card,) = [
            c for c in client.post(PATH, json=plain).json()["cards"] if "DPYD" in c["summary"]
        ]
        assert "**Read with care**" not in card["detail"]
