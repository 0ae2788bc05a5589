"""Prefetched data turned into a :class:`PatientRecord`, or the reason it cannot be.

CDS Hooks gives each prefetch key three meanings the service must keep apart: a value (the
data), ``null`` (the client has no data: nothing to fetch) and an absent key (the client could
not provide it). An OperationOutcome in place of the data says the client's own query failed.
Without the data a check cannot run, so the request is answered 412, never with "no cards".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import HookRequest, OrderSelectContext, OrderSignContext, PatientViewContext
from .record import PatientRecord
from .rulesets import Service


class PrefetchUnavailable(Exception):
    """Data the rules need was neither sent nor obtainable; ``key`` names the prefetch key."""

    def __init__(self, key: str, reason: str):
        self.key, self.reason = key, reason
        super().__init__(f"prefetch '{key}': {reason}")


def gather(request: HookRequest, context: PatientViewContext, service: Service) -> PatientRecord:
    sent = request.prefetch or {}
    patient: Mapping[str, Any] | None = None
    resources: list[Mapping[str, Any]] = []
    for key in service.prefetch:
        if key not in sent:
            raise PrefetchUnavailable(
                key, "not sent, and this service does not query the FHIR server"
            )
        value = sent[key]
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise PrefetchUnavailable(key, "must be a FHIR resource, a Bundle or null")
        if value["resourceType"] == "OperationOutcome":
            raise PrefetchUnavailable(key, "the client reported an error fetching it")
        for resource in _unpack(value):
            if (
                resource.get("resourceType") == "Patient"
                and resource.get("id") == context.patientId
            ):
                patient = resource
            else:
                resources.append(resource)
    return PatientRecord(
        patient_id=context.patientId,
        patient=patient,
        resources=resources,
        draft_orders=_draft_orders(context),
    )


def _unpack(value: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if value["resourceType"] != "Bundle":
        return [value]
    entries = value.get("entry") or []
    return [
        e["resource"]
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("resource"), dict)
        and (e.get("search") or {}).get("mode", "match") != "outcome"
    ]


def _draft_orders(context: PatientViewContext) -> list[Mapping[str, Any]]:
    """The orders to check: the selected ones at order-select, all of them at order-sign."""
    if isinstance(context, OrderSelectContext):
        selected = set(context.selections)
        return [
            r
            for r in context.draftOrders.resources()
            if f"{r.get('resourceType')}/{r.get('id')}" in selected
            or r.get("resourceType") == "Medication"
        ]
    if isinstance(context, OrderSignContext):
        return context.draftOrders.resources()
    return []
