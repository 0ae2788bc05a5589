"""Servers the fallback tests talk to on 127.0.0.1, and the service run with its lifespan.

``fhir_server`` starts the real FHIR server of ``tests/fhir-server/`` (Medplum's FHIR router,
installed by ``./dev test``). ``StandIn`` is a small HTTP server that answers the way broken FHIR
servers do, one fault at a time. ``LiveService`` runs the app in-process with its lifespan, so
the shared httpx client exists exactly as under uvicorn.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.protocol.yamlfile import load_yaml
from tests.conftest import FIXTURES, RULES, request_fixture
from tests.fixture_cases import TODAY

FHIR_SERVER_DIR = Path(__file__).resolve().parent / "fhir-server"
BUNDLES = sorted((FIXTURES / "bundles").glob("*.json"))
TOKEN = "tkn-7f3a9c2e-never-to-be-logged"
TEMPLATES: dict[str, str] = dict(load_yaml(RULES / "services.yaml")["services"][0]["prefetch"])
"""The order services' prefetch keys and templates: with no prefetch, one GET each."""


@contextmanager
def fhir_server(
    token: str | None = TOKEN, refuse: str | None = None, bundles: Sequence[Path] = BUNDLES
) -> Iterator[str]:
    """A FHIR server loaded with ``bundles`` (every fixture Bundle); yields its base URL.

    ``refuse`` names a resource type whose searches get a 400, as on servers that lack it.
    """
    with fhir_servers(shards=1, token=token, refuse=refuse, bundles=bundles) as servers:
        yield servers.bases[0]


class FhirServers:
    """The fixture patients spread over several FHIR servers, and which one holds whom."""

    def __init__(self, bases: list[str], holder: dict[str, str]):
        self.bases = bases
        self._holder = holder

    def base_for(self, request: str) -> str:
        """The base URL of the server that holds request fixture ``request``'s patient."""
        return self._holder[request_fixture(request)["context"]["patientId"]]


@contextmanager
def fhir_servers(
    shards: int = 12,
    token: str | None = TOKEN,
    refuse: str | None = None,
    bundles: Sequence[Path] = BUNDLES,
) -> Iterator[FhirServers]:
    """The fixture Bundles loaded into ``shards`` FHIR servers, started side by side.

    The in-memory server scans everything it holds on every search (about 1 s a search with all
    the fixture patients, 0.1 s with a dozen), so the patients are dealt out over several
    servers; a request goes to the one holding its patient, as an EHR's FHIR server would.
    """
    if not (FHIR_SERVER_DIR / "node_modules").is_dir():
        raise RuntimeError("tests/fhir-server is not installed: run the suite with ./dev test")
    by_patient: dict[tuple[str, ...], list[Path]] = {}
    for bundle in bundles:  # Bundles of one patient add up to one record: keep them together
        by_patient.setdefault(tuple(_patients(bundle)), []).append(bundle)
    records = list(by_patient.values())
    groups = [
        [bundle for record in records[start::shards] for bundle in record]
        for start in range(shards)
    ]
    processes = [
        subprocess.Popen(
            [
                "node",
                "server.mjs",
                *(["--token", token] if token else []),
                *(["--refuse", refuse] if refuse else []),
                *map(str, group),
            ],
            cwd=FHIR_SERVER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for group in groups
    ]
    try:
        bases = [_listening(process) for process in processes]
        holder = {
            patient: base
            for group, base in zip(groups, bases, strict=True)
            for bundle in group
            for patient in _patients(bundle)
        }
        yield FhirServers(bases, holder)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.communicate(timeout=10)


def _listening(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()  # "listening PORT", or nothing if it died
    if not line.startswith("listening "):
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise RuntimeError(f"the test FHIR server did not start: {errors[-2000:]}")
    return f"http://127.0.0.1:{line.split()[1]}"


def _patients(bundle: Path) -> list[str]:
    entries = json.loads(bundle.read_text(encoding="utf-8")).get("entry") or []
    return [e["resource"]["id"] for e in entries if e["resource"].get("resourceType") == "Patient"]


Handler = Callable[["StandInRequest"], tuple[int, dict[str, str], bytes]]


DROP = 0
"""A handler's status that closes the connection without an answer, as a server may do to a
keep-alive connection just as the client reuses it."""


class StandInRequest(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse can be seen

    def do_GET(self) -> None:
        server: StandIn = self.server.owner  # type: ignore[attr-defined]
        server.record(self)
        status, headers, body = server.handler(self)
        if status == DROP:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in {"Content-Type": "application/fhir+json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    """The service opens one connection per prefetch key at once; the default backlog of 5
    drops the seventh and the client retries a second later, past the tests' deadline."""


class StandIn:
    """An HTTP server on 127.0.0.1 whose every answer comes from ``handler``."""

    def __init__(self, handler: Handler):
        self.handler = handler
        self.seen: list[dict[str, Any]] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), StandInRequest)
        self._server.owner = self  # type: ignore[attr-defined]
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/fhir"

    def record(self, request: StandInRequest) -> None:
        with self._lock:
            self.seen.append(
                {
                    "path": request.path,
                    "headers": dict(request.headers),
                    "peer": request.client_address,
                }
            )

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class LiveService:
    """The app with its lifespan entered (the shared FHIR client), called in-process."""

    def __init__(self, settings: Settings):
        self.app = create_app(settings)
        self._loop = asyncio.new_event_loop()
        self._lifespan = self.app.router.lifespan_context(self.app)
        self._loop.run_until_complete(self._lifespan.__aenter__())
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://cds.test")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(path, **kwargs))

    def timed_post(self, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = self.post(path, **kwargs)
        return response, time.perf_counter() - started

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self._loop.close()


@contextmanager
def live_service(**settings: Any) -> Iterator[LiveService]:
    service = LiveService(
        Settings(**{"rules_dir": RULES, "today": TODAY, "auth": "off", **settings})
    )
    try:
        yield service
    finally:
        service.close()


def authorized(name: str, fhir: str, token: str = TOKEN) -> dict[str, Any]:
    """Request fixture ``name`` sent with ``fhirServer`` and a bearer token for it."""
    body = request_fixture(name)
    body["fhirServer"] = fhir
    body["fhirAuthorization"] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/Patient.read patient/Observation.read",
        "subject": "oncology-pgx-cds",
        "patient": body["context"]["patientId"],
    }
    return body
