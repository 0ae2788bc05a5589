"""Prefetched data turned into a :class:`PatientRecord`, and what the service must fetch itself.

CDS Hooks gives each prefetch key four states the service must keep apart:

- a value: the data (a search Bundle with a ``next`` link is only its first page);
- ``null``: the client has no data, so there is nothing to fetch;
- an absent key: the client could not or chose not to provide it, so the service fetches it;
- an OperationOutcome: the client's own query failed; the key's policy in ``rules/services.yaml``
  (``prefetch_policy``) says whether to ``fetch`` it, ``skip`` it as no data, or ``fail``.

:func:`plan` sorts a request into the resources in hand and the queries still needed;
:func:`record` puts the two together once the queries are answered, and :func:`unanswered` says
which keys stayed unanswered and why. Never "no data": the rules that read such a key do not run
and the answer says so (``ruleset/sources.py``), or it is a 412 when no rule can run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from ..protocol.fhir import reference_of
from ..protocol.messages import (
    ID_MAX,
    OrderSelectContext,
    OrderSignContext,
    PatientViewContext,
    id_too_long,
)
from ..protocol.outcomes import ClientError, Issue
from .queries import KeySpec, OnError, render
from .reading import AsRead, Notes, content_of
from .record import PatientRecord

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Query:
    """A query the service runs itself: ``url`` is relative to ``fhirServer``, or a page link."""

    key: str
    url: str
    reason: str
    read: bool = False
    """An instance read (``Type/id``): a 404 there means no data; a search must answer."""


@dataclass
class Plan:
    have: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    """Per key, in the service's order, the resources the client sent (of a paged Bundle, its
    first page); an empty list for no data."""
    queries: dict[str, Query] = field(default_factory=dict)


class PrefetchUnavailable(ClientError):
    """Data the rules need was neither sent nor obtainable: a 412 naming each key and why."""

    def __init__(self, *issues: Issue):
        super().__init__(412, *issues)


_URL_SHOWN = 100
"""Enough of a query to see what it asked for; the oncology search lists 40 codes."""


def unavailable(query: Query, why: str, code: str = "incomplete") -> Issue:
    """Why key ``query.key`` has no data: the query, why the service ran it, what came back."""
    url = query.url if len(query.url) <= _URL_SHOWN else query.url[: _URL_SHOWN - 3] + "..."
    message = f"prefetch '{query.key}' ({url}): {query.reason}, and {why}"
    return Issue(code, message, f"prefetch.{query.key}")


def plan(
    request_prefetch: Mapping[str, Any] | None,
    context: PatientViewContext,
    specs: tuple[KeySpec, ...],
    today: date,
) -> Plan:
    """What the client sent, per key, and the queries the service must run for the rest."""
    sent = request_prefetch or {}
    result = Plan()
    for spec in specs:
        result.have[spec.key] = []
        if spec.key not in sent:
            _query(result, spec, context, today, "not sent")
            continue
        value = sent[spec.key]
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise ClientError.of(
                400, "invalid", "must be a FHIR resource, a Bundle or null", f"prefetch.{spec.key}"
            )
        try:
            if value["resourceType"] == "OperationOutcome":
                _client_failed(result, spec, value, context, today)
                continue
            result.have[spec.key] = unpack(value)
            following = next_page(value)
        except IdTooLong as error:
            path = ".".join(["prefetch", spec.key, *error.member, "id"])
            message = f"{path}: a FHIR id has at most {ID_MAX} characters"
            raise ClientError.of(400, "invalid", message, path) from None
        except Malformed as error:
            where = f"prefetch.{spec.key}.{error.member}"
            raise ClientError.of(400, "structure", f"{where}: {error}", where) from None
        if following:
            result.queries[spec.key] = Query(spec.key, following, "sent as one page of several")
    return result


def _query(result: Plan, spec: KeySpec, context: PatientViewContext, today: date, why: str) -> None:
    url = render(spec.template, context, today)
    if url is not None:
        result.queries[spec.key] = Query(spec.key, url, why, read="?" not in spec.template)


def _client_failed(
    result: Plan,
    spec: KeySpec,
    outcome: Mapping[str, Any],
    context: PatientViewContext,
    today: date,
) -> None:
    said = "; ".join(
        str(issue.get("diagnostics") or issue.get("code") or "")
        for issue in _list(outcome, "issue")
        if isinstance(issue, dict)
    )
    why = "the client reported an error fetching it" + (f" ({said})" if said else "")
    if spec.on_error is OnError.FETCH:
        _query(result, spec, context, today, why)
    elif spec.on_error is OnError.FAIL:
        query = Query(spec.key, spec.template, why)
        raise PrefetchUnavailable(unavailable(query, "its policy is to fail"))


class Malformed(ValueError):
    """An answer whose Bundle or OperationOutcome has the wrong shape; ``member`` names where."""

    def __init__(self, member: str, expected: str):
        super().__init__(f"{member} must be {expected}")
        self.member = member


class IdTooLong(ValueError):
    """A resource whose id is longer than FHIR's 64 characters: it would be echoed into every
    card, so its answer is refused. ``member`` names the entry (none: the answer itself)."""

    def __init__(self, resource: Mapping[str, Any], *member: str):
        kind = str(resource.get("resourceType"))[:64]
        super().__init__(f"a {kind} whose id is longer than {ID_MAX} characters")
        self.member = member


def unpack(value: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resources of one answer: the resource itself, or a Bundle's entries (no outcomes).

    Each id kept is checked in the same pass (:class:`IdTooLong`): a chart's answer is mostly
    a Bundle of results, and each pass over it costs per entry. An outcome is not kept, so its
    id is echoed nowhere.
    """
    if value.get("resourceType") != "Bundle":
        if id_too_long(value):
            raise IdTooLong(value)
        return [value]
    resources = []
    for index, entry in enumerate(_list(value, "entry")):
        if not isinstance(entry, dict):
            raise Malformed(f"entry[{index}]", "an object")
        search = entry.get("search") or {}
        if not isinstance(search, dict):
            raise Malformed(f"entry[{index}].search", "an object")
        resource = entry.get("resource")
        if isinstance(resource, dict) and search.get("mode", "match") != "outcome":
            if id_too_long(resource):
                raise IdTooLong(resource, f"entry[{index}]", "resource")
            resources.append(resource)
    return resources


def next_page(value: Mapping[str, Any]) -> str | None:
    if value.get("resourceType") != "Bundle":
        return None
    for link in _list(value, "link"):
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _list(value: Mapping[str, Any], member: str) -> list[Any]:
    """A 0..* member of a FHIR resource: absent is empty, anything but a list is malformed."""
    found = value.get(member)
    if found is None:
        return []
    if not isinstance(found, list):
        raise Malformed(member, "a list")
    return found


def record(
    context: PatientViewContext,
    planned: Plan,
    fetched: Mapping[str, list[Mapping[str, Any]]],
    zone: ZoneInfo = _UTC,
) -> PatientRecord:
    """The patient's record from what was sent and what was fetched (see :class:`Reading`)."""
    return Reading(context, planned, fetched, zone).record()


class Reading:
    """What a call sent and fetched, read as the rules read it, and the digest of it as sent.

    The digest is all a call whose cards are remembered needs (``ruleset/remembered.py``); the
    record is built only for a check that runs. Each resource is read as the rules read it
    (``reading.py``): a time without a zone in ``zone``, the service's (``zones.py``), a lone
    item of a list as a list of one, a member of the wrong type left out
    (``protocol/shape.py``), each member when first read. The patient and the orders are read
    in full: every check reads them.
    """

    def __init__(
        self,
        context: PatientViewContext,
        planned: Plan,
        fetched: Mapping[str, list[Mapping[str, Any]]],
        zone: ZoneInfo = _UTC,
    ):
        self.patient_id, self.zone = context.patientId, zone
        self.sent = [
            r for key, sent in planned.have.items() for r in [*sent, *fetched.get(key, ())]
        ]
        self.orders = _draft_orders(context)
        self.content = content_of(context.patientId, zone, [*self.sent, *self.orders])

    def record(self) -> PatientRecord:
        patient: AsRead | None = None
        resources: list[AsRead] = []
        read = [AsRead(r, self.zone) for r in self.sent]
        for resource in read:
            if resource.get("resourceType") == "Patient" and resource.get("id") == self.patient_id:
                patient = resource.complete()
            else:
                resources.append(resource)
        orders = [AsRead(order, self.zone).complete() for order in self.orders]
        return PatientRecord(
            patient_id=self.patient_id,
            patient=patient,
            resources=resources,  # type: ignore[arg-type]
            draft_orders=orders,  # type: ignore[arg-type]
            read_as=Notes([*read, *orders]),
            content=self.content,
        )


def unanswered(
    planned: Plan,
    fetched: Mapping[str, list[Mapping[str, Any]]],
    failed: Mapping[str, Issue],
) -> dict[str, Issue]:
    """The keys still without data, each with why: the FHIR server's failure, or not fetched."""
    return {
        key: failed.get(key) or unavailable(query, "the service did not fetch it")
        for key, query in planned.queries.items()
        if key not in fetched
    }


def _draft_orders(context: PatientViewContext) -> list[Mapping[str, Any]]:
    """The orders to check: the selected ones at order-select, all of them at order-sign.

    A MedicationRequest with no medication yet (the prescriber has not picked the drug) has
    nothing to check, so it is left out; the client calls again once the drug is chosen.
    """
    if not isinstance(context, OrderSignContext):
        return []
    orders = [r for r in context.draftOrders.resources() if not _drug_not_chosen(r)]
    if isinstance(context, OrderSelectContext):
        selected = set(context.selections)
        return [
            r
            for r in orders
            if reference_of(r) in selected or r.get("resourceType") == "Medication"
        ]
    return orders


def _drug_not_chosen(resource: Mapping[str, Any]) -> bool:
    return resource.get("resourceType") == "MedicationRequest" and not any(
        resource.get(name) for name in ("medicationCodeableConcept", "medicationReference")
    )
