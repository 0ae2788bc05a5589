"""Prefetch templates: the tokens and query shapes CDS Hooks allows, and filling them in.

A template is checked when the rules load (:func:`template_problem`), so a service never
advertises a query the spec forbids, and filled per request (:func:`render`), where every value
is checked to be a FHIR id so that a crafted ``patientId`` cannot add parameters or leave the
server's base path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl

from fhir.resources.R4B import get_fhir_model_class

from ..protocol.messages import CONTEXTS, FHIR_ID, PatientViewContext
from ..protocol.outcomes import ClientError


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


_TEXT = (str, str | None)
TOKEN = re.compile(r"\{\{(.*?)\}\}")
CONTEXT_TOKENS = {
    hook: tuple(name for name, field in model.model_fields.items() if field.annotation in _TEXT)
    for hook, model in CONTEXTS.items()
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


_ID_SEGMENT = re.compile(FHIR_ID)


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
            400,
            "invalid",
            f"context.{field_name} is not a FHIR id (letters, digits, '-' and '.', at most 64)",
            f"context.{field_name}",
        )
    return str(value)
