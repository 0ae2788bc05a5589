"""The HTTP surface: discovery, service calls and feedback; every error is an OperationOutcome."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.telemetry import TelemetryConfig
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from . import service
from .auth.guard import RequireClientJwt, verifier_for
from .cards.bounded import written
from .config import Settings
from .engine.durable import CompiledRules, EngineBusy
from .engine.supervisor import EnginePool, EngineUnavailable
from .heap import settle_heap
from .observability import calls, metrics
from .observability.readiness import Readiness
from .prefetch import fhirclient
from .protocol import fhir
from .protocol.messages import Card, FeedbackRequest, HookRequest
from .protocol.outcomes import ClientError, Issue, operation_outcome, validated
from .protocol.transport import ContainErrors, require_json
from .ruleset.compiled import RuleSet, Service
from .ruleset.loader import load_rule_set
from .ruleset.reload import LiveRules, watch
from .store.db import utcnow
from .store.handle import StoreUnavailable, open_store
from .store.patients import card_ids
from .store.recorder import Served

log = logging.getLogger("cds_service")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service with its rule set loaded; an invalid rule set raises here, before serving."""
    settings = settings or Settings.from_env()
    pool = (
        EnginePool(settings.engine_processes, settings.engine_timeout)
        if settings.engine_processes > 0
        else None
    )
    compile_rules = pool.rules if pool else CompiledRules
    try:
        live = LiveRules(load_rule_set(settings.rules_dir, compile_rules), compile_rules)
        verifier = verifier_for(settings)  # after the rules, whose problems are told first
    except BaseException:
        if pool:
            pool.close()
        raise
    ids = card_ids(settings)
    store = open_store(settings)
    fhir.warm_up()
    if settings.today is not None:
        log.warning("CDS_TODAY is set: ages and intervals are counted to %s", settings.today)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = None
        if settings.reload_seconds > 0:
            watcher = asyncio.create_task(
                watch(live, settings.rules_dir, settings.reload_seconds, settings.reload_timeout)
            )
        async with fhirclient.new_client(settings) as client:
            app.state.fhir_client = client
            settle_heap()
            yield
        if watcher is not None:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
        live.close()
        if verifier is not None:
            await verifier.replay.aclose()
        if store is not None:
            store.close()
        if pool:
            pool.close()

    app = FastAPI(
        title="Oncology PGx CDS Hooks service",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the generated one described no real request or answer
        lifespan=lifespan,
        telemetry=_OWN_TELEMETRY_ONLY,
    )
    app.state.rules = live
    app.state.engine = pool
    app.state.settings = settings
    app.add_middleware(ContainErrors)  # innermost: a 500 still gets the CORS headers
    app.state.store = store
    if verifier is not None:  # added before CORS, so that CORS wraps it and answers preflights
        app.add_middleware(
            RequireClientJwt, verifier=verifier, public_base_url=settings.public_base_url
        )
    app.state.readiness = readiness = Readiness()
    readiness.add("rules", _rules_ready(live))
    if store is not None:
        readiness.add("store", store.ready)
    if verifier is not None:
        readiness.add("replay", verifier.replay.ready)
    if settings.cors_origins:
        app.add_middleware(
            _CorsWithOutcomes,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(calls.CallMiddleware)
    app.add_exception_handler(ClientError, _client_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(EngineBusy, _busy)
    app.add_exception_handler(StoreUnavailable, _store_down)
    app.add_exception_handler(EngineUnavailable, _engine_stopped)

    @app.get("/cds-services")
    async def discovery() -> Response:
        return _json(service.discovery(live.current))

    @app.post("/cds-services/{service_id}")
    async def call(service_id: str, request: Request) -> Response:
        with live.lease() as rule_set:
            chosen = _service(rule_set, service_id)
            calls.serving(chosen.id, rule_set.version)
            hook_request = service.parse_request(await _read_json(request))
            today = settings.day()
            client = getattr(request.app.state, "fhir_client", None)
            seen = store.overrides if store is not None else None
            answer = await service.answer(
                chosen, hook_request, rule_set, today, client, settings, seen, ids
            )
            shown, body = written(answer, settings.max_response_bytes)
            if store is not None:  # what the EHR was shown, not what was left out of it
                store.record(_served(chosen, hook_request, rule_set, shown.cards))
            return Response(body, media_type="application/json")

    @app.post("/cds-services/{service_id}/feedback")
    async def feedback(service_id: str, request: Request) -> Response:
        calls.serving(_service(live.current, service_id).id)
        received = validated(FeedbackRequest, await _read_json(request))
        for item in received.feedback:
            metrics.count_feedback(item.outcome)
            card = item.card if _is_uuid(item.card) else "not-a-uuid"
            log.info("feedback service=%s card=%s outcome=%s", service_id, card, item.outcome)
        if store is not None:
            await store.feedback(service_id, received.feedback)
        return _json({"received": len(received.feedback)})

    @app.get("/health")
    async def health() -> Response:
        """Which rule set is live, and what the last reload said (a refused one included)."""
        status = live.status()
        kept = {"store": store.status()} if store is not None else {}
        engine = pool.status() if pool else {"mode": "in-process"}
        answer = {"status": "ok", "auth": settings.auth, "ruleSetVersion": status["version"]}
        return _json(answer | {"rules": status, "engine": engine} | kept)

    @app.get("/ready")
    async def ready() -> Response:
        """200 when every part the service needs answers; 503 naming the ones that do not."""
        ok, report = await readiness.report()
        return _json(report, 200 if ok else 503)

    @app.get("/metrics")
    async def scrape() -> Response:
        """Prometheus metrics: for the monitoring network only, never exposed to clients."""
        body, media_type = metrics.exposition()
        return Response(body, media_type=media_type)

    return app


_OWN_TELEMETRY_ONLY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's OpenTelemetry off, whatever provider the process has: the service's telemetry is
the call line (names and figures, never patient data) and ``/metrics``. FastAPI's would send a
span per call and the messages of errors to any provider an agent set for the process, and a
provider that fails would fail every call with a 500."""


def _served(chosen: Service, request: HookRequest, rule_set: RuleSet, cards: list[Card]) -> Served:
    context = request.context
    return Served(
        chosen.id,
        chosen.hook,
        request.hookInstance,
        str(context["patientId"]),
        context.get("encounterId"),
        rule_set.version,
        cards,
        utcnow(),
    )


def _rules_ready(live: LiveRules) -> Callable[[], Awaitable[str | None]]:
    async def check() -> str | None:
        return None if live.current.services else "no rule set with services is loaded"

    return check


def _service(rule_set: RuleSet, service_id: str) -> Service:
    if service_id not in rule_set.services:
        raise ClientError.of(
            404, "not-found", f"no CDS service '{service_id}'; GET /cds-services lists them"
        )
    return rule_set.services[service_id]


async def _read_json(request: Request) -> Any:
    require_json(request.headers)
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ClientError.of(400, "invalid", f"malformed JSON: {error}") from None


def _too_large(limit: int) -> ClientError:
    return ClientError.of(413, "too-costly", f"request body larger than {limit} bytes")


def _is_uuid(text: str) -> bool:
    """A card is named by the uuid the service gave it; any other text the client sent in its
    place could be anything, a patient's name included, and is not logged."""
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class _CorsWithOutcomes(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as an OperationOutcome."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        issue = Issue("forbidden", bytes(response.body).decode() or "CORS preflight refused")
        refused = _json(operation_outcome(issue), response.status_code)
        for name in ("vary", "access-control-allow-methods", "access-control-max-age"):
            if name in response.headers:
                refused.headers[name] = response.headers[name]
        return refused


async def _client_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, ClientError)
    return _json(error.outcome(), error.status)


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not-found", 405: "not-supported"}.get(error.status_code, "processing")
    answer = _json(operation_outcome(Issue(code, str(error.detail))), error.status_code)
    answer.headers.update(error.headers or {})  # a 405's Allow
    return answer


async def _busy(_: Request, error: Exception) -> Response:
    log.warning("engine busy: %s", error)
    return _json(operation_outcome(Issue("transient", "service busy; retry")), 503)


async def _store_down(_: Request, error: Exception) -> Response:
    assert isinstance(error, StoreUnavailable)
    issue = Issue("transient", f"{error}; retry later: the feedback was not kept")
    response = _json(operation_outcome(issue), 503)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _engine_stopped(_: Request, error: Exception) -> Response:
    """The engine process died or hung on this call (it is restarted): no check ran."""
    message = (
        "the checks could not run: the rules engine stopped during this call and is being "
        "restarted; no card was evaluated, retry"
    )
    response = _json(operation_outcome(Issue("transient", message)), 503)
    response.headers["Retry-After"] = "1"
    return response
