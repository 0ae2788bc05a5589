"""One record per HTTP call: its request id, service, stage times and cards, logged as one line.

The middleware opens the record; the code of the call fills it in (:func:`serving`,
:func:`stage`, :func:`fired`, and :func:`issued_by` for the JWT check); when the answer is sent
the line is written and the call counted. What goes in is chosen so that no patient
identifier, name, token or card text can reach the log: ids of services and rules, counts,
times and statuses only."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from . import metrics

log = logging.getLogger("cds_service.call")

HEADER = "X-Request-ID"
_GIVEN_ID = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
"""A client's own request id is kept only when it is a uuid or a W3C trace id (32 hex digits):
a freer id ("MRN-12345678", a patient's number) would carry patient data into every log line
of the call, so anything else gets a fresh id. It is also the ``id`` of every
OperationOutcome, and both shapes keep to the FHIR id pattern."""

_QUIET = ("/health", "/ready", "/metrics")
"""Probes and scrapes, counted but not logged: they would drown the calls."""


@dataclass
class CallRecord:
    request_id: str
    method: str
    path: str
    endpoint: str
    service: str = "-"
    status: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    cards: int | None = None
    rules: list[str] = field(default_factory=list)
    rule_set: str | None = None
    iss: str | None = None
    """The client's JWT issuer, for the auth check to fill in (an organisation, not a person)."""

    def fields(self, seconds: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "method": self.method,
            "endpoint": self.endpoint,
            "service": self.service,
            "status": self.status,
            "ms": round(seconds * 1000, 1),
        }
        if self.stages:
            out["stage_ms"] = {k: round(v * 1000, 2) for k, v in self.stages.items()}
        if self.cards is not None:
            out["cards"] = self.cards
            out["rules"] = self.rules
        if self.rule_set:
            out["rule_set"] = self.rule_set
        out["iss"] = self.iss
        return out


_current: ContextVar[CallRecord | None] = ContextVar("cds_call", default=None)


def issued_by(iss: str) -> None:
    """For the JWT check: the client's ``iss`` (an organisation), named in the call's line."""
    record = _current.get()
    if record is not None:
        record.iss = iss


def request_id() -> str | None:
    record = _current.get()
    return record.request_id if record else None


CLIENT_CLOSED = 499
"""Not an HTTP status: nginx's name for a call whose client closed the connection before the
answer, so that it is counted and logged as the client's doing, never as the service's 500."""


def client_gone() -> None:
    """The client closed the connection before its body was read: there is no one to answer."""
    record = _current.get()
    if record is not None:
        record.status = CLIENT_CLOSED


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time one stage of an HTTP call, into its histogram and the call's log line.

    Outside an HTTP call (``evaluate``, rule-file examples, the check of a hot reload, which
    runs in a child process sharing the workers' metrics folder) nothing is recorded: the
    metrics describe the calls the service answered.
    """
    record = _current.get()
    started = time.perf_counter()
    try:
        yield
    finally:
        if record is not None:
            seconds = time.perf_counter() - started
            metrics.observe_stage(name, seconds)
            record.stages[name] = record.stages.get(name, 0.0) + seconds


def serving(service: str, rule_set: str | None = None) -> None:
    """The service (known to the rule set, so a bounded label) and rule set a call is for."""
    record = _current.get()
    if record is not None:
        record.service, record.rule_set = service, rule_set or record.rule_set


def fired(cards: list[tuple[str, str]]) -> None:
    """The cards an HTTP call returned, as (rule id, indicator): counted, and named in its line."""
    record = _current.get()
    if record is None:
        return
    for rule, indicator in cards:
        metrics.count_card(rule, indicator)
    record.cards, record.rules = len(cards), [rule for rule, _ in cards]


def _endpoint(path: str) -> str:
    if path.startswith("/cds-services/"):
        return "feedback" if path.endswith("/feedback") else "call"
    return {"/cds-services": "discovery", "/health": "health", "/ready": "ready"}.get(
        path, "metrics" if path == "/metrics" else "other"
    )


class CallMiddleware:
    """ASGI middleware: a request id for every call, its header, its count and its log line."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"").decode("latin-1")
        record = CallRecord(
            request_id=given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex,
            method=scope["method"],
            path=scope["path"],
            endpoint=_endpoint(scope["path"]),
        )
        _current.set(record)
        started = time.perf_counter()

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((HEADER.lower().encode(), record.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            record.status = record.status or 500
            raise
        finally:
            finish(record, time.perf_counter() - started)


def finish(record: CallRecord, seconds: float) -> None:
    status = str(record.status or 500)
    metrics.CALLS.labels(record.endpoint, record.service, status).inc()
    if record.endpoint in ("call", "feedback"):
        metrics.CALL_SECONDS.labels(record.service).observe(seconds)
    if record.path in _QUIET:
        return
    fields = record.fields(seconds)
    level = logging.ERROR if record.status >= 500 or not record.status else logging.INFO
    log.log(level, "%s %s", record.endpoint, record.service, extra={"call": fields})
