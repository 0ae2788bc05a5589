"""What an operator sees: one log line a call, a request id, metrics that move, readiness.

The log lines are read as the handler writes them (text and JSON), at DEBUG, while every
fixture request, feedback and a FHIR fallback go through the app with bearer tokens: no line
may carry a patient id, a patient's name, a fixture's name or a token.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from prometheus_client import generate_latest

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.facts import clinical
from cds_service.observability import logformat, metrics
from tests import logwatch
from tests.conftest import RULES, Client, client_for, request_fixture
from tests.fixture_cases import TODAY
from tests.servers import TOKEN, StandIn, live_service


@contextmanager
def captured(form: str) -> Iterator[io.StringIO]:
    """Everything the service's loggers write, formatted as ``serve`` formats it."""
    out = io.StringIO()
    handler = logformat.handler(form, out)
    logger = logging.getLogger("cds_service")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize("form", ["text", "json"])
def test_no_log_line_names_a_patient_or_carries_a_token(form):
    assert len(logwatch.secrets()) > 150  # the check has something to find
    assert "pt-dpyd-2a-13" in logwatch.secrets()
    headers = {"Authorization": f"Bearer {logwatch.BEARER}"}
    with captured(form) as out, client_for() as client:
        for path in logwatch.REQUESTS:
            body = json.loads(path.read_text(encoding="utf-8"))
            body["fhirAuthorization"] = {
                "access_token": TOKEN,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "cds-service",
                "patient": body["context"].get("patientId", "p"),
            }
            client.post(f"/cds-services/{_service(body['hook'])}", json=body, headers=headers)
        client.post("/cds-services/nope", content=b"{", headers=headers)
    with captured(form) as fallback_out:
        _fallback_call()
    text = out.getvalue() + fallback_out.getvalue()
    assert text.count("endpoint") >= len(logwatch.REQUESTS)  # one line a call was written
    assert "fhir fallback" in fallback_out.getvalue()
    assert logwatch.leaks(text) == []
    assert logwatch.leaks("patient=pt-dpyd-2a-13 status=200")  # and it would see one


def _service(hook: str) -> str:
    return {
        "order-sign": "oncology-order-sign",
        "order-select": "oncology-order-select",
        "patient-view": "oncology-patient-view",
    }[hook]


def _fallback_call() -> None:
    """A call whose missing prefetch is asked of a FHIR server that is down (503)."""
    body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    body["prefetch"].pop("pgx")
    with StandIn(lambda _: (503, {}, b"{}")) as server:
        body["fhirServer"] = server.url
        body["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer"} | {
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds-service",
        }
        before = metrics.exposition()[0].decode()
        with live_service(fhir_servers=(server.url,), fhir_retries=0) as service:
            response = service.post("/cds-services/oncology-order-sign", json=body)
        after = metrics.exposition()[0].decode()
    assert response.status_code == 200  # the checks that need no pgx still run
    topics = [card["source"]["topic"]["code"] for card in response.json()["cards"]]
    assert "checks-not-run" in topics
    name, outcome = "cds_fhir_fallback_queries_total", {"outcome": "transient"}
    assert _sample(after, name, **outcome) == _sample(before, name, **outcome) + 1


def test_a_call_line_says_what_an_operator_needs():
    with captured("json") as out, client_for() as client:
        response = client.post(
            "/cds-services/oncology-order-sign",
            json=request_fixture("dpyd-2a-13-capecitabine.order-sign"),
        )
    (line,) = [json.loads(x) for x in out.getvalue().splitlines() if '"endpoint"' in x]
    assert response.headers["X-Request-ID"] == line["request_id"]
    assert line["service"] == "oncology-order-sign"
    assert line["status"] == 200
    assert line["cards"] == 1
    assert line["rules"] == ["dpyd-poor"]
    assert line["rule_set"]
    assert set(line["stage_ms"]) == {"prefetch_plan", "record", "facts", "engine", "cards"}
    assert "iss" in line


def test_the_request_id_is_in_every_operation_outcome():
    with client_for() as client:
        unknown = client.post("/cds-services/nope", json={})
        malformed = client.post("/cds-services/oncology-order-sign", content=b"{")
        given = client.post(
            "/cds-services/oncology-order-sign",
            content=b"[]",
            headers={"X-Request-ID": TRACE_ID},
        )
        forged = [
            client.post("/cds-services/nope", json={}, headers={"X-Request-ID": value})
            for value in ("pt 1", "MRN-12345678", "pt-dpyd-2a-13")  # could name a patient
        ]
    for response in (unknown, malformed, given, *forged):
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["id"] == response.headers["X-Request-ID"]
    assert given.headers["X-Request-ID"] == TRACE_ID
    for response, value in zip(forged, ("pt 1", "MRN-12345678", "pt-dpyd-2a-13"), strict=True):
        assert response.headers["X-Request-ID"] != value  # not a uuid or trace id: a fresh one


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
"""A W3C trace id (the traceparent example): a client's own id is kept in this shape or a uuid's."""


def test_text_lines_are_readable_key_values():
    with captured("text") as out, client_for() as client:
        client.post("/cds-services/nope", json={})
    (line,) = [x for x in out.getvalue().splitlines() if "cds_service.call:" in x]
    assert " INFO " in line
    assert "endpoint=call service=- status=404" in line


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of the series ``name`` with these labels in a scrape; 0 if not there yet."""
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_move_with_calls_and_feedback():
    with client_for() as client:
        before = client.get("/metrics").text
        client.post(
            "/cds-services/oncology-order-sign",
            json=request_fixture("dpyd-2a-13-capecitabine.order-sign"),
        )
        accepted = {
            "card": "c1",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "s1"}],
            "outcomeTimestamp": "2026-11-21T10:00:00Z",
        }
        client.post("/cds-services/oncology-order-sign/feedback", json={"feedback": [accepted]})
        after = client.get("/metrics")
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text
    labels = {"endpoint": "call", "service": "oncology-order-sign", "status": "200"}
    assert (
        _sample(text, "cds_calls_total", **labels)
        == _sample(before, "cds_calls_total", **labels) + 1
    )
    card = {"rule": "dpyd-poor", "indicator": "critical"}
    assert (
        _sample(text, "cds_cards_total", **card) == _sample(before, "cds_cards_total", **card) + 1
    )
    for stage in ("prefetch_plan", "record", "facts", "engine", "cards"):
        name = "cds_stage_seconds_count"
        assert _sample(text, name, stage=stage) > _sample(before, name, stage=stage)
    assert re.search(r'cds_ruleset_info\{version="\w+"\} 1\.0', text)
    feedback = _sample(text, "cds_feedback_total", outcome="accepted")
    assert feedback == _sample(before, "cds_feedback_total", outcome="accepted") + 1
    assert "pt-dpyd-2a-13" not in text  # the patient of the call is in no label


def test_ready_names_each_check_and_a_failing_one_makes_it_503():
    app = create_app(Settings(rules_dir=RULES, today=TODAY, auth="off"))
    client = Client(app)
    try:
        ready = client.get("/ready")

        async def redis_down() -> str:
            return "redis at 127.0.0.1:6379 does not answer"

        app.state.readiness.add("redis", redis_down)
        not_ready = client.get("/ready")
        health = client.get("/health")
    finally:
        client.close()
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"rules": "ok"}}
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["redis"] == "redis at 127.0.0.1:6379 does not answer"
    assert health.status_code == 200  # alive, though not ready


def test_an_unexpected_error_keeps_its_request_id():
    app = create_app(Settings(rules_dir=RULES, today=TODAY, auth="off"))

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("a defect")

    client = Client(app)
    try:
        with captured("json") as out:
            response = client.get("/fails")
    finally:
        client.close()
    assert response.status_code == 500
    given = response.headers["X-Request-ID"]
    assert response.json()["id"] == given
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["request_id"] for line in lines} == {given}  # the traceback's line too
    assert any(line["status"] == 500 for line in lines if "status" in line)


def test_a_client_gone_before_its_body_is_read_is_a_499_not_an_error():
    """A client that closes the connection halfway through its body: no one to answer, and not
    the service's fault. It was logged as an unexpected error, traceback and all, and counted as
    a 500, which an operator's alert on 5xx would page for."""
    app = create_app(Settings(rules_dir=RULES, today=TODAY, auth="off"))
    half = orjson.dumps(request_fixture("dpyd-2a-13-capecitabine.order-sign"))[:500]
    messages = [
        {"type": "http.request", "body": half, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/cds-services/oncology-order-sign",
        "raw_path": b"/cds-services/oncology-order-sign",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    labels = {"endpoint": "call", "service": "oncology-order-sign", "status": "499"}
    before = _sample(generate_latest().decode(), "cds_calls_total", **labels)
    with captured("json") as out:
        asyncio.run(app(scope, receive, send))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    (line,) = lines  # the call's line, and no "unexpected error" with a traceback
    assert (line["status"], line["level"]) == (499, "INFO")
    assert sent == []  # the client is gone: nothing was sent
    assert _sample(generate_latest().decode(), "cds_calls_total", **labels) == before + 1


@pytest.mark.parametrize("form", ["text", "json"])
def test_an_exception_is_logged_with_its_frames_but_not_its_message(form, monkeypatch):
    """A reader that fails quoting what it read, as a KeyError or a pydantic error does: the
    log line of the fault says where and what type, never the patient's name or id it quoted."""
    body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    patient = body["prefetch"]["patient"]
    family, given = patient["name"][0]["family"], patient["name"][0]["given"][0]

    def reading(resource, today):
        try:
            return {}[f"{resource.name[0].given[0]} {resource.name[0].family}"]
        except KeyError:  # a context here, a cause below: both are written, as types only
            raise ValueError(f"no date of death for {resource.id}")  # noqa: B904

    def quoting(resource, today):
        try:
            reading(resource, today)
        except ValueError as error:
            raise LookupError(f"{resource.name[0].family} could not be read") from error

    monkeypatch.setattr(clinical, "_deceased", quoting)
    with captured(form) as out, client_for() as client:
        response = client.post("/cds-services/oncology-order-sign", json=body)
    text = out.getvalue()
    assert response.status_code == 200  # the fault's card (tests/test_check_fault.py)
    assert response.headers["X-Request-ID"] in text
    assert "Traceback (most recent call last)" in text
    assert re.search(r'clinical\.py\\?", line \d+, in patient', text)  # the frames, each
    assert "in quoting" in text
    assert "in reading" in text
    assert all(kind in text for kind in ("KeyError", "ValueError", "LookupError"))
    for secret in (family, given, patient["id"]):
        assert secret not in text
    assert logwatch.leaks(text) == []


def test_another_librarys_error_is_written_without_its_message(monkeypatch):
    loggers = [logging.getLogger(name) for name in ("", "cds_service", "uvicorn", "uvicorn.error")]
    saved = [(lg, lg.handlers, lg.propagate, lg.level) for lg in loggers]
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    try:
        logformat.configure("json", "info")
        error = KeyError("Priya Nandakumar")
        logging.getLogger("asyncio").error("Task exception was never retrieved", exc_info=error)
    finally:
        for logger, handlers, propagate, level in saved:
            logger.handlers, logger.propagate, logger.level = handlers, propagate, level
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["logger"], line["exception"]) == ("asyncio", "KeyError")


class _Recording:
    """An OpenTelemetry provider, as an operator's agent sets one globally: it notes each ask."""

    def __init__(self, asked: list[str]):
        self.asked = asked

    def __getattr__(self, name: str) -> Any:
        self.asked.append(name)
        raise AttributeError(name)


def test_nothing_goes_to_an_opentelemetry_provider_set_for_the_process(monkeypatch):
    """The service's telemetry is its own: the call line (names and figures, no patient data)
    and ``/metrics``. FastAPI's, which takes any provider set for the process, would send it
    spans of each call and the messages of errors, which these lines never carry; and this
    provider, which fails when asked, made every call a 500."""
    from opentelemetry import _logs, metrics, trace

    asked: list[str] = []
    for api, getter in ((trace, "get_tracer_provider"), (metrics, "get_meter_provider")):
        monkeypatch.setattr(api, getter, lambda: _Recording(asked))
    monkeypatch.setattr(_logs, "get_logger_provider", lambda: _Recording(asked))
    with client_for() as client:
        body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
        assert client.post("/cds-services/oncology-order-sign", json=body).status_code == 200
        assert client.post("/cds-services/no-such-service", json=body).status_code == 404
    assert asked == []


def test_feedback_is_logged_with_the_card_uuid_and_nothing_else_the_client_sent():
    served = "0b6a2c1e-5f39-4d7a-9c52-2f1e8d4a7b90"
    items = [
        {
            "card": card,
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "s1"}],
            "outcomeTimestamp": "2026-11-21T10:00:00Z",
        }
        for card in (served, "Priya Nandakumar pt-dpyd-2a-13")
    ]
    with captured("text") as out, client_for() as client:
        response = client.post(
            "/cds-services/oncology-order-sign/feedback", json={"feedback": items}
        )
    text = out.getvalue()
    assert response.status_code == 200
    assert f"card={served} outcome=accepted" in text
    assert "card=not-a-uuid outcome=accepted" in text
    assert "Nandakumar" not in text
    assert logwatch.leaks(text) == []


def test_calls_outside_http_are_not_counted(rule_set):
    """Rule-file examples and a hot reload's check run the same pipeline: not service calls."""
    from cds_service import service

    request = service.parse_request(request_fixture("dpyd-2a-13-capecitabine.order-sign"))
    before = metrics.exposition()[0].decode()
    response = service.call(rule_set.services["oncology-order-sign"], request, rule_set, TODAY)
    after = metrics.exposition()[0].decode()
    assert len(response.cards) == 1
    card = {"rule": "dpyd-poor", "indicator": "critical"}
    assert _sample(after, "cds_cards_total", **card) == _sample(before, "cds_cards_total", **card)
    engine = _sample(after, "cds_stage_seconds_count", stage="engine")
    assert engine == _sample(before, "cds_stage_seconds_count", stage="engine")
