"""Shared test fixtures: the bundled rule set, the app, and fixture files from the repo."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import load_rule_set
from tests import logwatch
from tests.fixture_cases import TODAY

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    logwatch.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole run's log lines hold no patient id or name, fixture name or token."""
    if found := logwatch.run_leaks():
        print("\nlog lines that name a patient or carry a token:\n" + "\n".join(found[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures" / "fhir"


def fixture_json(relative: str) -> dict[str, Any]:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def request_fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(fixture_json(f"requests/{name}.json"))


def distinct_resources() -> list[dict[str, Any]]:
    """Every distinct resource in the fixtures (in a Bundle, a request or alone), once each."""
    found: dict[str, dict[str, Any]] = {}

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if isinstance(item.get("resourceType"), str) and item["resourceType"] != "Bundle":
                found.setdefault(json.dumps(item, sort_keys=True), item)
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    for path in sorted(FIXTURES.rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return list(found.values())


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over the ASGI app (no sockets)."""

    def __init__(self, app: FastAPI):
        self.app = app
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://cds.test")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(path, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@contextmanager
def client_for(**settings: Any) -> Iterator[Client]:
    """A client of an app with these settings (default: the bundled rules, the fixtures' day,
    no client JWT: tests of the client JWT turn it on; no store: ``database_url`` gives it one,
    closed with the client)."""
    defaults = {"rules_dir": RULES, "today": TODAY, "auth": "off"}
    app = create_app(Settings(**{**defaults, **settings}))
    client = Client(app)
    try:
        yield client
    finally:
        client.close()
        if app.state.store is not None:
            app.state.store.close()


POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
"""The machine's shared PostgreSQL: tests create a database of their own on it and drop it."""


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store database: SQLite in a temporary folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    import psycopg

    name = f"cds_store_test_{os.getpid()}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def rule_set() -> Iterator[RuleSet]:
    loaded = load_rule_set(RULES)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app(Settings(rules_dir=RULES, max_body_bytes=256 * 1024, today=TODAY, auth="off"))


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    client = Client(app)
    yield client
    client.close()


DPYD = Path("pgx") / "dpyd-fluoropyrimidines.yaml"
"""The DPYD rule file, relative to a rules folder: the one most tests edit."""


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Edit a copied rule or knowledge file as an author would; ``old`` must be in it."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def copy_rules(tmp_path: Path) -> Path:
    """A writable copy of ``rules/`` with ``fixtures/`` beside it, as in the repository.

    Examples in rule files name fixture bundles by a path relative to the rule file.
    """
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    return tmp_path / "rules"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_service(rules: Path, **env: str) -> Iterator[str]:
    """``cds-service serve`` in its own process on a free loopback port; yields its base URL.

    Its clock is the fixtures' day (``CDS_TODAY``), as in-process; every caller is trusted
    (``CDS_AUTH=off``) unless ``env`` says otherwise.
    """
    port = free_port()
    command = [sys.executable, "-m", "cds_service.cli", "--rules", str(rules), "serve"]
    command += ["--port", str(port), "--log-level", "warning"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "CDS_TODAY": TODAY.isoformat()}
    environment |= {"CDS_AUTH": "off", "CDS_DATABASE_URL": "off", **env}  # store only if asked
    process = subprocess.Popen(command, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the service did not start within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
