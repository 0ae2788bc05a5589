"""Prefetched data turned into a :class:`PatientRecord`, and what the service must fetch itself.

CDS Hooks gives each prefetch key four states the service must keep apart:

- a value: the data (a search Bundle with a ``next`` link is only its first page);
- ``null``: the client has no data, so there is nothing to fetch;
- an absent key: the client could not or chose not to provide it, so the service fetches it;
- an OperationOutcome: the client's own query failed; the key's policy in ``rules/services.yaml``
  (``prefetch_policy``) says whether to ``fetch`` it, ``skip`` it as no data, or ``fail``.

:func:`plan` sorts a request into the resources in hand and the queries still needed;
:func:`record` puts the two together once the queries are answered. A key that stays unanswered
is a 412, never "no cards": without the data a check cannot run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from fhir.resources.R4B import get_fhir_model_class

from .errors import ClientError, Issue
from .models import OrderSelectContext, OrderSignContext, PatientViewContext
from .record import PatientRecord
from .rulesets import RuleSet, Service
from .yamlfile import RuleFileError, load_yaml


class OnError(StrEnum):
    """What to do with a key the client answered with an OperationOutcome."""

    FETCH = "fetch"
    """Query the FHIR server for it, as if it had not been sent."""
    SKIP = "skip"
    """Go on as if the client had sent ``null``: only for data whose absence changes no card."""
    FAIL = "fail"
    """Answer 412 at once, quoting the client's OperationOutcome."""


@dataclass(frozen=True)
class KeySpec:
    key: str
    template: str
    on_error: OnError = OnError.FETCH


@dataclass(frozen=True)
class Query:
    """A query the service runs itself: ``url`` is relative to ``fhirServer``, or a page link."""

    key: str
    url: str
    reason: str


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


def unavailable(query: Query, why: str, code: str = "incomplete") -> Issue:
    return Issue(
        code, f"prefetch '{query.key}': {query.reason}, and {why}", f"prefetch.{query.key}"
    )


# --- the service definitions: templates and policies, checked at startup --------------------

TOKEN = re.compile(r"\{\{(.*?)\}\}")
CONTEXT_TOKENS = {
    "patient-view": ("userId", "patientId", "encounterId"),
    "order-select": ("userId", "patientId", "encounterId"),
    "order-sign": ("userId", "patientId", "encounterId"),
}
"""Root-level primitive context fields, the only ones CDS Hooks 2.0.1 allows as tokens."""
USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
_TODAY = re.compile(r"today\(\)(?:\s*([+-])\s*(\d{1,5})\s*days?)?")
"""CDS Hooks 3.0 relative dates: ``today()``, ``today() - 90 days``."""
_SEARCH_RESULT_PARAMETERS = {"_count", "_sort", "_maxresults"}
_SEARCH_PARAMETERS_ALLOWED = {"_id", "_lastUpdated"}
_DATE_PREFIX_NOT_ALLOWED = re.compile(r"^(ne|sa|eb|ap)(\d{4}|\{\{)")


def load_specs(rule_set: RuleSet) -> dict[str, tuple[KeySpec, ...]]:
    """Each service's prefetch keys with their policy; any template or policy at fault raises."""
    path = rule_set.directory / "services.yaml"
    entries = {e.get("id"): e for e in load_yaml(path).get("services") or [] if isinstance(e, dict)}
    specs: dict[str, tuple[KeySpec, ...]] = {}
    for service in rule_set.services.values():
        policies = entries.get(service.id, {}).get("prefetch_policy") or {}
        specs[service.id] = _service_specs(path, service, policies)
    return specs


def _service_specs(path: Any, service: Service, policies: Any) -> tuple[KeySpec, ...]:
    if not isinstance(policies, dict):
        raise RuleFileError(
            path, f"service {service.id}: prefetch_policy must map keys to policies"
        )
    for key, policy in policies.items():
        if key not in service.prefetch:
            raise RuleFileError(path, f"service {service.id}: prefetch_policy.{key}: no such key")
        if policy not in set(OnError):
            choices = ", ".join(OnError)
            raise RuleFileError(
                path, f"service {service.id}: prefetch_policy.{key}: {policy!r} is not {choices}"
            )
    for key, template in service.prefetch.items():
        problem = template_problem(template, service.hook)
        if problem:
            raise RuleFileError(path, f"service {service.id}: prefetch.{key}: {problem}")
    return tuple(
        KeySpec(key, template, OnError(policies.get(key, OnError.FETCH)))
        for key, template in service.prefetch.items()
    )


def template_problem(template: str, hook: str) -> str | None:
    """Why a template breaks CDS Hooks' prefetch query restrictions, if it does.

    Allowed: an instance read (``Type/id``) or a type-level search whose parameters are plain or
    ``:in`` (no chaining, no other modifier, no ``_include``/``_has``...), date comparisons
    ``eq/lt/gt/ge/le`` only, and ``_count``, ``_sort``, ``_maxresults``. Tokens are the hook's
    root-level primitive context fields, the four user tokens and 3.0's ``today() ± N days``.
    """
    if template.count("{{") != template.count("}}"):
        return "a '{{' without its '}}'"
    for token in TOKEN.findall(template):
        if not _known_token(token.strip(), hook):
            return f"'{{{{{token}}}}}' is not a prefetch token for {hook}"
    path, _, query = template.partition("?")
    if ":" in path or path.startswith("/"):
        return "must be relative to the FHIR server (Type/id or Type?search)"
    resource_type, _, instance = path.partition("/")
    try:
        get_fhir_model_class(resource_type)
    except ValueError:
        return f"{resource_type!r} is not a FHIR R4 resource type"
    if instance:
        if "/" in instance or query:
            return "an instance read is Type/id, with no further path or parameters"
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        problem = _parameter_problem(name, value)
        if problem:
            return problem
    return None


def _known_token(token: str, hook: str) -> bool:
    if token in USER_TOKENS or _TODAY.fullmatch(token):
        return True
    name = token.removeprefix("context.")
    return token != name and name in CONTEXT_TOKENS[hook]


def _parameter_problem(name: str, value: str) -> str | None:
    base, _, modifier = name.partition(":")
    allowed = _SEARCH_RESULT_PARAMETERS | _SEARCH_PARAMETERS_ALLOWED
    if base.startswith("_") and base not in allowed:
        return f"'{base}' is outside the query restrictions ({', '.join(sorted(allowed))})"
    if "." in base:
        return f"chained parameter '{name}' is outside the query restrictions"
    if modifier and modifier != "in":
        return f"modifier ':{modifier}' is outside the query restrictions (only ':in')"
    if _DATE_PREFIX_NOT_ALLOWED.match(value):
        return f"date prefix in '{name}={value}' is outside the query restrictions (eq/lt/gt/ge/le)"
    return None


# --- one request ----------------------------------------------------------------------------

_ID_SEGMENT = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def render(template: str, context: PatientViewContext, today: date) -> str | None:
    """The template with the request's values, or None if a token has no value in this request.

    A token without a value (no ``encounterId``; ``userPractitionerId`` for a PractitionerRole
    user) means the query has no subject here: the client could not have run it either, so the
    key stands for no data. Values are checked to be FHIR ids, so a crafted ``patientId`` cannot
    add parameters or climb out of the server's base path.
    """
    values: dict[str, str | None] = {}
    for token in TOKEN.findall(template):
        values[token] = _token_value(token.strip(), context, today)
    if any(value is None for value in values.values()):
        return None
    return TOKEN.sub(lambda match: values[match.group(1)] or "", template)


def _token_value(token: str, context: PatientViewContext, today: date) -> str | None:
    relative = _TODAY.fullmatch(token)
    if relative:
        sign, days = relative.groups()
        offset = timedelta(days=int(days or 0))
        return (today - offset if sign == "-" else today + offset).isoformat()
    if token in USER_TOKENS:
        kind, _, user = context.userId.partition("/")
        value = user if kind == USER_TOKENS[token] else None
        field_name = "userId"
    else:
        field_name = token.removeprefix("context.")
        value = getattr(context, field_name, None)
    if value is None:
        return None
    segments = str(value).split("/")
    if any(not _ID_SEGMENT.fullmatch(s) or set(s) == {"."} for s in segments):
        raise ClientError.of(
            400, "invalid", f"context.{field_name} is not a FHIR id", f"context.{field_name}"
        )
    return str(value)


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
        if value["resourceType"] == "OperationOutcome":
            _client_failed(result, spec, value, context, today)
            continue
        result.have[spec.key] = unpack(value)
        following = next_page(value)
        if following:
            result.queries[spec.key] = Query(spec.key, following, "sent as one page of several")
    return result


def _query(result: Plan, spec: KeySpec, context: PatientViewContext, today: date, why: str) -> None:
    url = render(spec.template, context, today)
    if url is not None:
        result.queries[spec.key] = Query(spec.key, url, why)


def _client_failed(
    result: Plan,
    spec: KeySpec,
    outcome: Mapping[str, Any],
    context: PatientViewContext,
    today: date,
) -> None:
    said = "; ".join(
        str(issue.get("diagnostics") or issue.get("code") or "")
        for issue in outcome.get("issue") or []
        if isinstance(issue, dict)
    )
    why = "the client reported an error fetching it" + (f" ({said})" if said else "")
    if spec.on_error is OnError.FETCH:
        _query(result, spec, context, today, why)
    elif spec.on_error is OnError.FAIL:
        query = Query(spec.key, spec.template, why)
        raise PrefetchUnavailable(unavailable(query, "its policy is to fail"))


def unpack(value: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resources of one answer: the resource itself, or a Bundle's entries (no outcomes)."""
    if value.get("resourceType") != "Bundle":
        return [value]
    entries = value.get("entry") or []
    return [
        e["resource"]
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("resource"), dict)
        and (e.get("search") or {}).get("mode", "match") != "outcome"
    ]


def next_page(value: Mapping[str, Any]) -> str | None:
    if value.get("resourceType") != "Bundle":
        return None
    for link in value.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def record(
    context: PatientViewContext,
    planned: Plan,
    fetched: Mapping[str, list[Mapping[str, Any]]],
) -> PatientRecord:
    """The patient's record from what was sent and what was fetched; every query is answered."""
    missing = [q for key, q in planned.queries.items() if key not in fetched]
    if missing:
        raise PrefetchUnavailable(
            *(unavailable(q, "the service did not fetch it") for q in missing)
        )
    patient: Mapping[str, Any] | None = None
    resources: list[Mapping[str, Any]] = []
    for key, sent in planned.have.items():
        for resource in map(_repaired, [*sent, *fetched.get(key, ())]):
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


_LONE_OBJECT_LISTS = ("category",)
"""0..* elements that real clients send as one object instead of a list of one."""


def _repaired(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    lone = {n: [resource[n]] for n in _LONE_OBJECT_LISTS if isinstance(resource.get(n), dict)}
    return {**resource, **lone} if lone else resource


def _draft_orders(context: PatientViewContext) -> list[Mapping[str, Any]]:
    """The orders to check: the selected ones at order-select, all of them at order-sign.

    A MedicationRequest with no medication yet (the prescriber has not picked the drug) has
    nothing to check, so it is left out; the client calls again once the drug is chosen.
    """
    if not isinstance(context, OrderSignContext):
        return []
    orders = [_repaired(r) for r in context.draftOrders.resources() if not _drug_not_chosen(r)]
    if isinstance(context, OrderSelectContext):
        selected = set(context.selections)
        return [
            r
            for r in orders
            if f"{r.get('resourceType')}/{r.get('id')}" in selected
            or r.get("resourceType") == "Medication"
        ]
    return orders


def _drug_not_chosen(resource: Mapping[str, Any]) -> bool:
    return resource.get("resourceType") == "MedicationRequest" and not any(
        resource.get(name) for name in ("medicationCodeableConcept", "medicationReference")
    )
