"""FHIR R4 resources as the rules read them, validated with ``fhir.resources.R4B``.

EHRs send R4 JSON; the R4B models read it unchanged (the package's default models are R5 and
reject it). Validation is the largest part of a first call (0.06 ms a resource in a loop, some
0.1 ms within a call, with fhir_core's per-element checks in their fast forms: ``fhircore.py``),
so only the resources a rule reads are validated, only in the members a reader reads, once per
call, and a content sent again is validated at most twice: an EHR resends the same genotypes,
Patient and Conditions at every order-select and order-sign of a patient. A resource that
fails is not a reason to reject the request: it becomes an :class:`InvalidResource` that the
cards report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from pydantic import ValidationError

from ..kept import Kept
from . import fhircore
from .shape import Shaped

fhircore.install()  # before any model validates: fhir_core's per-element checks, fast

Coding = tuple[str | None, str | None, str | None]
"""``(system, code, display)``."""


class InvalidResource(Exception):
    """A resource that does not validate as FHIR R4; ``reason`` names the fields."""

    def __init__(self, reference: str, reason: str):
        self.reference, self.reason = reference, reason
        super().__init__(f"{reference}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return InvalidResource, (self.reference, self.reason)


Code = tuple[str, str]
"""A coding reduced to ``(system, code)``."""

RESULT_STATUSES = frozenset({"final", "amended", "corrected"})
"""Observation statuses that make a result one to act on (not preliminary, not cancelled)."""

DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
"""The code system of values that say why there is no value ("not-applicable", "unknown")."""


NO_ID = "(no id)"
"""What :func:`reference_of` writes in place of the id of a resource sent without one."""


def reference_of(resource: Mapping[str, Any]) -> str:
    """``Type/id`` of a resource as sent, even one that does not validate."""
    kind = resource.get("resourceType")
    ident = resource.get("id")
    kind = kind if isinstance(kind, str) and kind else "Resource"
    return f"{kind}/{ident if isinstance(ident, str) and ident else NO_ID}"


class _Validated:
    """What validation made of each distinct resource content, most recently used kept.

    Keyed by a digest of the exact JSON of the members validated (:func:`read_members`), so a
    kept answer is the answer for that content by construction: another patient's resource, or
    the same resource changed by one character, has another key. Never keyed by id. Kept
    pickled (``kept.py``): unpickling a model costs about a sixth of validating it, and 4,096 of
    them pickled are some 20 MiB that the garbage collector never walks. A content is kept when
    it is validated a second time, so that a patient's first call, whose resources are all new,
    pickles none of them.
    """

    def __init__(self, capacity: int):
        self._kept: Kept[FHIRResourceModel | InvalidResource] = Kept(capacity, on_second_use=True)

    def verdict(self, resource: Mapping[str, Any]) -> FHIRResourceModel | InvalidResource:
        read, problems = _read(resource)
        if problems:
            return InvalidResource(reference_of(resource), "; ".join(problems))
        key = content_digest(read)
        if key is None:
            return _verdict(read)
        return self._kept.get(key, lambda: _verdict(read))


NAMED_NOWHERE = frozenset(
    {
        "address",
        "asserter",
        "basedOn",
        "bodySite",
        "communication",
        "contact",
        "device",
        "encounter",
        "evidence",
        "focalDevice",
        "focus",
        "generalPractitioner",
        "insurance",
        "managingOrganization",
        "partOf",
        "performer",
        "photo",
        "requester",
        "specimen",
        "supportingInformation",
        "telecom",
        "usedReference",
    }
)
"""Members of some resource types that no module of the service names: who performed, asked
for or asserted something, where, on what and about what, and a Patient's contact details. No
reader can read them; ``tests/test_unread_members.py`` fails the day one does."""
NAMED_NOT_READ = frozenset({"category", "method", "stage"})
"""Members some modules name, but never of a resource: ``category`` is a suggested
ServiceRequest's and a biomarker report's in the rule files, ``method`` an HTTP request's and
the mismatch-repair panel's words (read from a result's code), ``stage`` a call's timing (a
cancer's stage is read from staging Observations, never from ``Condition.stage``). A result's
categories were the largest member validated on the bench's requests (a quarter of the
elements of ``dpyd-55``). ``tests/test_unread_members.py`` counts where each is named, and
fails the day that changes."""
UNREAD = frozenset({"text", "identifier", "extension"}) | NAMED_NOWHERE | NAMED_NOT_READ
"""Members of a resource no reader reads: its narrative, its business identifiers and its own
extensions (an extension of an element inside it is still validated), and those named nowhere
or not as a resource's. Validating them, with ``meta`` but its profiles, was a quarter to a third
of validation on the bench's requests (the narrative, identifiers and extensions), a further
7-10 % (those named nowhere) and 16-18 % of what was left (those not named as a resource's), so
they are left out of it, and a wrong one no longer makes a resource unreadable: a resource
read member by member is not even shaped in them (``prefetch/reading.py``).
``tests/test_unread_members.py`` proves that every fixture's cards are the same without them."""
META_READ = frozenset({"profile"})
"""Of ``meta``, what a reader reads: the profiles (a Condition's tells what it records). The
tags of an order are read as sent, never through validation."""


def read_names(names: Iterable[str]) -> list[str]:
    """Of these member names, those a reader reads (all but :data:`UNREAD`), in their order."""
    return [name for name in names if name not in UNREAD]


def read_members(resource: Mapping[str, Any]) -> dict[str, Any]:
    """``resource`` with only the members a reader reads: what is validated."""
    return _read(resource)[0]


def _read(resource: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The members a reader reads, and the problems of their shape. Of a resource shaped
    member by member on first read (``prefetch/reading.py``), only these are shaped."""
    if isinstance(resource, Shaped):
        read, problems = resource.shaped(read_names(resource.names()))
    else:
        read, problems = {n: resource[n] for n in read_names(resource)}, ()
    meta = read.get("meta")
    if isinstance(meta, Mapping):
        kept = {name: value for name, value in meta.items() if name in META_READ}
        if kept:
            read["meta"] = kept
        else:
            del read["meta"]
    return read, problems


def _verdict(resource: Mapping[str, Any]) -> FHIRResourceModel | InvalidResource:
    """The model, or the refusal as a value: kept without the traceback of the call it failed in."""
    try:
        return _validate(resource)
    except InvalidResource as error:
        return InvalidResource(error.reference, error.reason)


def content_digest(resource: Mapping[str, Any]) -> bytes | None:
    """A digest of the resource's content, or None for content JSON cannot hold (no caching).

    Members are digested in the order sent, not sorted: the same content with its members in
    another order has another digest, which costs a miss, never a wrong answer, and an EHR
    writes its resources the same way each time. Sorting was a fifth of a warm call's digest.
    """
    try:
        content = orjson.dumps(resource)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return hashlib.sha256(content).digest()  # the fastest strong hash with SHA extensions


validated_models = _Validated(capacity=4096)


def validate(resource: Mapping[str, Any]) -> FHIRResourceModel:
    """The R4B model of ``resource``, or :class:`InvalidResource` saying which fields are wrong."""
    if isinstance(resource, Shaped):
        if resource.validated is None:  # as read: the members a reader reads, shaped
            resource.validated = validated_models.verdict(resource)
        found = resource.validated
    else:
        found = validated_models.verdict(resource)
    if isinstance(found, InvalidResource):
        raise InvalidResource(found.reference, found.reason)
    return found


def _validate(resource: Mapping[str, Any]) -> FHIRResourceModel:
    reference = reference_of(resource)
    try:
        model_class = get_fhir_model_class(str(resource.get("resourceType")))
    except (KeyError, ValueError, AttributeError):
        raise InvalidResource(reference, "unknown resourceType") from None
    try:
        return fhircore.validate(model_class, resource)  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidResource(reference, _describe(error)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:  # fhir-core's bare errors
        raise InvalidResource(reference, str(error) or type(error).__name__) from None


def _describe(error: ValidationError, limit: int = 3) -> str:
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "resource"
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    more = error.error_count() - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def codings(concept: CodeableConcept | None) -> Iterator[Coding]:
    if concept is None:
        return
    for coding in concept.coding or ():
        yield coding.system, coding.code, coding.display


def concept_text(concept: CodeableConcept | None) -> str | None:
    """The human text of a concept: its ``text``, else the first coding display."""
    if concept is None:
        return None
    if concept.text:
        return concept.text
    return next((display for _, _, display in codings(concept) if display), None)


def codes_of(concept: CodeableConcept | None) -> list[Code]:
    """The concept's codings as ``(system, code)``, missing parts as empty text."""
    return [(system or "", code or "") for system, code, _ in codings(concept)]


def concept_words(concept: CodeableConcept | None) -> list[str]:
    """Every text a concept carries, its ``text`` and each coding display, for word matching."""
    if concept is None:
        return []
    return [t for t in [concept.text, *(display for _, _, display in codings(concept))] if t]


def has_code(concept: CodeableConcept | None, codes: frozenset[tuple[str, str]]) -> bool:
    return any((system, code) in codes for system, code, _ in codings(concept))


def raw_has_code(concept: Any, codes: frozenset[tuple[str, str]]) -> bool:
    """The same test on unvalidated JSON, to decide whether a resource is worth validating."""
    return not _sent_codes(concept).isdisjoint(codes)


def _sent_codes(concept: Any) -> frozenset[Code]:
    """The ``(system, code)`` pairs of an unvalidated concept whose parts are both text."""
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return frozenset()
    pairs = ((c.get("system"), c.get("code")) for c in concept["coding"] if isinstance(c, dict))
    return frozenset((s, c) for s, c in pairs if isinstance(s, str) and isinstance(c, str))


def raw_component_values(resource: Mapping[str, Any], codes: frozenset[Code]) -> Iterator[Any]:
    """The unvalidated ``valueCodeableConcept`` of each component coded with one of ``codes``.

    Only the named component is read: a gene must come from the gene-studied component, not
    from a change ("L858R") or an answer code that merely looks like a gene symbol.
    """
    for component in resource.get("component") or []:
        if isinstance(component, Mapping) and raw_has_code(component.get("code"), codes):
            yield component.get("valueCodeableConcept")


def raw_concept(concept: Any) -> tuple[list[Code], list[str]]:
    """The ``(system, code)`` pairs and the texts (text, displays) of an unvalidated concept.

    Tables are matched on the raw resource so that only the resources a rule reads are validated.
    """
    if not isinstance(concept, Mapping):
        return [], []
    codings = [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]
    codes = [(str(c.get("system", "")), str(c.get("code"))) for c in codings]
    texts = [concept.get("text"), *(c.get("display") for c in codings)]
    return codes, [t for t in texts if isinstance(t, str)]


@dataclass(frozen=True)
class RawConcept:
    """What the tables match in an unvalidated concept, worked out once for each distinct one."""

    codes: tuple[Code, ...]
    """As :func:`raw_concept` gives them."""
    texts: tuple[str, ...]
    sent: frozenset[Code]
    """The pairs :func:`raw_has_code` tests."""

    @classmethod
    def of(cls, concept: Any) -> RawConcept:
        codes, texts = raw_concept(concept)
        return cls(tuple(codes), tuple(texts), _sent_codes(concept))

    def has_code(self, codes: frozenset[Code]) -> bool:
        return not self.sent.isdisjoint(codes)


_WARM_UP = (
    {"resourceType": "Patient"},
    {"resourceType": "Observation", "status": "final", "code": {"text": "warm-up"}},
    {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "warm-up"},
        "subject": {"reference": "Patient/warm-up"},
    },
)


def warm_up() -> None:
    """Import and exercise the models once: the first validation costs 0.3-0.5 s."""
    for resource in _WARM_UP:
        validate(resource)
