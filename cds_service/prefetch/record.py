"""One patient's data as the service received it: the record and the orders being entered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.reference import Reference

from ..protocol import fhir
from .reading import AsRead, json_text

_T = TypeVar("_T")


@dataclass(frozen=True)
class PatientRecord:
    patient_id: str
    patient: Mapping[str, Any] | None = None
    resources: list[Mapping[str, Any]] = field(default_factory=list)
    """Every resource found in the prefetch (search Bundles are unpacked)."""
    draft_orders: list[Mapping[str, Any]] = field(default_factory=list)
    read_as: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per resource (``Type/id``), how a value was read that was not sent as FHIR requires (a
    time without a zone, a lone item of a list): each card citing the resource says so."""
    content: bytes | None = None
    """A digest of everything above as sent, with the zone it is read in; None when unknown.
    Equal digests, equal records: the facts of one are the other's (``ruleset/remembered.py``)."""
    _by_type: dict[str, list[int]] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, list[tuple[fhir.RawConcept, list[int]]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_type: dict[str, list[int]] = {}
        for position, resource in enumerate(self.resources):
            kind = resource.get("resourceType")
            if isinstance(kind, str):
                by_type.setdefault(kind, []).append(position)
        object.__setattr__(self, "_by_type", by_type)
        object.__setattr__(self, "_by_code", {})

    def of_type(self, *kinds: str) -> list[Mapping[str, Any]]:
        """The resources of these types, in the order sent: each reader reads a few types, and
        a chart is mostly results."""
        positions = [p for kind in kinds for p in self._by_type.get(kind, ())]
        if len(kinds) > 1:
            positions.sort()
        return [self.resources[p] for p in positions]

    def by_code(
        self, kind: str, test: Callable[[fhir.RawConcept], _T | None]
    ) -> list[tuple[Mapping[str, Any], _T]]:
        """The resources of this type whose ``code`` the test gives something other than None
        for, each with what it gave, in the order sent.

        The test runs once per distinct code: a chart of years of vitals and labs has thousands
        of results and a few dozen codes, and every reader of results asks each one its code.
        """
        found: list[tuple[int, _T]] = []
        for concept, positions in self._codes(kind):
            result = test(concept)
            if result is not None:
                found += [(position, result) for position in positions]
        found.sort(key=itemgetter(0))
        return [(self.resources[position], result) for position, result in found]

    def coded(self, kind: str, codes: frozenset[fhir.Code]) -> list[Mapping[str, Any]]:
        """The resources of this type with one of ``codes``, in the order sent."""
        found = self.by_code(kind, lambda concept: concept.has_code(codes) or None)
        return [resource for resource, _ in found]

    def _codes(self, kind: str) -> list[tuple[fhir.RawConcept, list[int]]]:
        """Each distinct ``code`` of this type's resources, with where they are: built on first
        use, grouped by the exact JSON of the code sent (equal JSON, equal concept).

        The code of a group's first resource is read; where it reads as sent, as nearly all
        do, so would the others', which are left to be read if a reader asks (a chart's
        thousand results are a few codes). Where it does not, each one's is read, so that
        each resource has its own problems to tell (``facts/grouped.py``).
        """
        if kind not in self._by_code:
            grouped: dict[Any, tuple[fhir.RawConcept, list[int], bool]] = {}
            for position in self._by_type.get(kind, ()):
                resource = self.resources[position]
                key = _code_text(resource)
                slot = position if key is None else key  # one JSON cannot hold: on its own
                group = grouped.get(slot)
                if group is None:
                    code, as_sent = _read_code(resource, key)
                    group = grouped[slot] = (fhir.RawConcept.of(code), [], as_sent)
                elif not group[2]:  # read, so that its problems are its own
                    resource.get("code")
                group[1].append(position)
            self._by_code[kind] = [(concept, at) for concept, at, _ in grouped.values()]
        return self._by_code[kind]

    def medication_concept(
        self, reference: str | None, container: Mapping[str, Any]
    ) -> CodeableConcept | None:
        """The code of a referenced Medication: contained (``#id``) or sent beside the order."""
        if not reference:
            return None
        if reference.startswith("#"):
            pool, wanted = container.get("contained") or [], f"Medication/{reference[1:]}"
        else:
            pool, wanted = [*self.draft_orders, *self.resources], relative(reference)
        candidates = [r for r in pool if isinstance(r, dict) and fhir.reference_of(r) == wanted]
        for resource in candidates:
            try:
                medication = fhir.validate(resource)
            except fhir.InvalidResource:
                return None
            if isinstance(medication, Medication):
                return medication.code
        return None

    def draft_order(self, reference: str) -> Mapping[str, Any] | None:
        return next((r for r in self.draft_orders if fhir.reference_of(r) == reference), None)

    def foreign_subject(self, subject: Reference | None) -> str | None:
        """Why a resource must not be used for this patient, if its subject is someone else."""
        if subject is None or not subject.reference:
            return None
        expected = f"Patient/{self.patient_id}"
        if subject.reference == expected or subject.reference.endswith("/" + expected):
            return None
        return f"subject is {subject.reference}, not {expected}"


def _code_text(resource: Mapping[str, Any]) -> bytes | None:
    """The JSON text of a resource's ``code`` as sent, equal for codes read alike; None for one
    JSON cannot hold."""
    if isinstance(resource, AsRead):
        return resource.sent_text("code")
    return json_text(resource.get("code"))


def _read_code(resource: Mapping[str, Any], text: bytes | None) -> tuple[Any, bool]:
    """A resource's ``code`` as read, and whether it reads as sent (:meth:`AsRead.read_as_sent`;
    any other mapping is read as it is)."""
    if isinstance(resource, AsRead):
        return resource.read_as_sent("code", text)
    return resource.get("code"), True


def relative(reference: str) -> str:
    """``Type/id`` from a relative or absolute reference."""
    return "/".join(reference.rstrip("/").split("/")[-2:])
