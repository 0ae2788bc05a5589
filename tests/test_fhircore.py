"""fhir_core's validators in their fast forms (``protocol/fhircore.py``) accept and refuse
exactly what fhir_core's own do, with the same words.

Every distinct resource in ``fixtures/fhir`` is validated as sent, as the service validates it
(the members a reader reads), and broken in each of the ways these validators catch: a null in
a list (of complex elements, refused; of primitives, where a null lines a value up with its
extension, not), a member taken out (a required one among them), a choice sent twice or as
null, an element given a resource type (its own, which fhir_core takes out, or another, which it
refuses). Each case is validated with fhir_core's own validators and with the fast ones, and the
outcomes (the model as JSON, or every error's type, place and message) must be equal.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cds_service.protocol import fhir, fhircore
from tests.conftest import distinct_resources

CHOICE = re.compile(
    r"^([a-z][A-Za-z]*?)(Quantity|CodeableConcept|String|Boolean|DateTime|Date|Period|"
    r"Reference|Integer|Range|Ratio|Age|Instant|Time|Timing|Duration|Attachment)$"
)


def _nodes(item: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, item
    if isinstance(item, dict | list):
        for key, value in item.items() if isinstance(item, dict) else enumerate(item):
            yield from _nodes(value, (*path, key))


def _at(resource: dict[str, Any], path: tuple[Any, ...]) -> Any:
    for key in path:
        resource = resource[key]
    return resource


def broken(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``resource`` broken once in each place, each kind of break at each place of a type
    (the list indices left out of the place) once."""
    kind = resource["resourceType"]
    for path, node in list(_nodes(resource)):
        shape = tuple(key for key in path if isinstance(key, str))
        if isinstance(node, list) and node:  # of complex elements, refused; of primitives, not
            yield f"{kind} null in {shape}", _changed(resource, path, lambda n: n.insert(0, None))
        if not isinstance(node, dict):
            continue
        if path:  # an element: fhir_core's __init__ takes its own type out, refuses another
            for key, value in (("resourceType", "CodeableConcept"), ("resource_type", "Coding")):
                yield (
                    f"{kind} {shape} with {key} {value}",
                    _changed(resource, path, lambda n, k=key, v=value: n.update({k: v})),
                )
        for name in list(node):
            place = (*shape, name)
            if name != "resourceType":
                yield f"{kind} no {place}", _changed(resource, path, lambda n, k=name: n.pop(k))
            match = CHOICE.match(name)
            if match:
                other = match.group(1) + ("Boolean" if match.group(2) != "Boolean" else "String")
                twice = {other: "x" if other.endswith("String") else True}
                yield (
                    f"{kind} {place} twice",
                    _changed(resource, path, lambda n, t=twice: n.update(t)),
                )
                null = {name: None}
                yield (
                    f"{kind} {place} null",
                    _changed(resource, path, lambda n, t=null: n.update(t)),
                )


def _changed(resource: dict[str, Any], path: tuple[Any, ...], change: Any) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    change(_at(copied, path))
    return copied


def cases() -> dict[str, dict[str, Any]]:
    """Each case once by its description: the resource, as read, and each kind of break."""
    found: dict[str, dict[str, Any]] = {}
    for resource in distinct_resources():
        sent = orjson.dumps(resource).decode()
        found.setdefault(f"as sent {sent}", resource)
        found.setdefault(f"as read {sent}", fhir.read_members(resource))
        for description, case in broken(resource):
            found.setdefault(description, case)
    return found


def outcome(resource: dict[str, Any]) -> tuple[Any, ...]:
    model_class = get_fhir_model_class(resource["resourceType"])
    return outcome_of(lambda: fhircore.validate(model_class, resource))


def outcome_of(validate: Callable[[], Any]) -> tuple[Any, ...]:
    """The model's JSON, every error's type, place and message, or a bare error's."""
    try:
        model = validate()
    except ValidationError as error:
        return ("refused", [(e["type"], e["loc"], e["msg"]) for e in error.errors()])
    except Exception as error:  # fhir_core's bare errors, as protocol/fhir.py takes them
        return ("raised", type(error).__name__, str(error))
    return ("valid", model.model_dump_json())


@pytest.fixture(scope="module")
def both() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
    """The outcome of every case with fhir_core's validators, and with the fast ones."""
    every = cases()
    assert fhircore.installed(), "the fast validators are in place once the service is imported"
    fhircore.uninstall()
    try:
        slow = [outcome(case) for case in every.values()]
    finally:
        assert fhircore.install()
    fast = [outcome(case) for case in every.values()]
    return slow, fast, list(every)


def test_the_fast_validators_are_in_place_on_the_release_pinned() -> None:
    """A new fhir_core release leaves the models as they are, slower; this fails until
    ``WRITTEN_FOR`` names it, after its validators are read again against ``fhircore.py``."""
    assert fhircore.installed()


@pytest.mark.parametrize("release", ["1.1.13", None])
def test_another_release_keeps_its_own_validators(
    release: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a release not checked (or one installed without its metadata), nothing is swapped."""

    def version(name: str) -> str:
        if release is None:
            raise PackageNotFoundError(name)
        return release

    monkeypatch.setattr(fhircore, "version", version)
    fhircore.uninstall()
    try:
        assert fhircore.install() is False
        assert not fhircore.installed()
    finally:
        monkeypatch.undo()
        assert fhircore.install()


def test_every_case_has_the_same_outcome(both: Any) -> None:
    slow, fast, described = both
    differ = [d for d, s, f in zip(described, slow, fast, strict=True) if s != f]
    assert differ == []


def test_the_cases_reach_every_refusal_the_validators_give(both: Any) -> None:
    """Else the comparison above could pass without the fast paths ever handing over."""
    slow, _, _ = both
    said = " ".join(str(o) for o in slow if o[0] != "valid")
    counts = {
        "a null in a list": said.count("None is not allowed as an element of"),
        "a required primitive taken out": said.count("model_field_validation.missing"),
        "a choice sent twice": said.count("but got multiple"),
        "a required choice missing": said.count("Expect any of field value from this list"),
        "an element of another resource type": said.count("fhir-validation-wrong-resource-type"),
    }
    assert min(counts.values()) >= 5, counts
    assert sum(o[0] == "valid" for o in slow) > 1000


def test_a_resource_and_its_elements_are_validated_by_their_own_schemas_alone() -> None:
    """Else the comparison above would pass with the direct way never taken."""
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
        "valueQuantity": {"value": 0.9, "unit": "mg/dL"},
    }
    fhircore._direct.clear()
    fhircore.uninstall()
    try:  # fhir_core's own way throughout, or the comparison above compares fast with fast
        fhircore.validate(get_fhir_model_class("Observation"), observation)
        assert fhircore._direct == {}
    finally:
        assert fhircore.install()
    model = fhircore.validate(get_fhir_model_class("Observation"), observation)
    assert model.code.coding[0].code == "2160-0"
    taken = {cls.__name__ for cls, direct in fhircore._direct.items() if direct is not None}
    assert {"Observation", "CodeableConcept", "Coding", "Quantity"} <= taken


@pytest.mark.parametrize(
    "given",
    [
        {"resourceType": "Condition"},
        {"resource_type": "Observation"},
        {"resource_type": "Condition"},
        {"resourceType": None},
    ],
    ids=["another resourceType", "its own resource_type", "another resource_type", "a null one"],
)
def test_a_resource_named_another_way_than_by_its_class_gets_fhir_cores_own_answer(
    given: dict[str, Any],
) -> None:
    """The service picks the class by the resource's ``resourceType``, so these never reach
    validation from a call; whoever passes one still gets fhir_core's answer."""
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    observation.update(given)
    model_class = get_fhir_model_class("Observation")
    fast = fhircore.validate
    fhircore.uninstall()
    try:
        own = outcome_of(lambda: fast(model_class, dict(observation)))
    finally:
        assert fhircore.install()
    assert outcome_of(lambda: fast(model_class, dict(observation))) == own
