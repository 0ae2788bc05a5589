"""Shared test fixtures: the bundled rule set, the app, and fixture files from the repo."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.rulesets import RuleSet, load_rule_set

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures" / "fhir"


def fixture_json(relative: str) -> dict[str, Any]:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def request_fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(fixture_json(f"requests/{name}.json"))


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over the ASGI app (no sockets)."""

    def __init__(self, app: FastAPI):
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://cds.test")

    def get(self, path: str) -> httpx.Response:
        return self._loop.run_until_complete(self._client.get(path))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.post(path, **kwargs))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture(scope="session")
def rule_set() -> Iterator[RuleSet]:
    loaded = load_rule_set(RULES)
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app(Settings(rules_dir=RULES, max_body_bytes=256 * 1024))


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    client = Client(app)
    yield client
    client.close()


def copy_rules(tmp_path: Path) -> Path:
    """A writable copy of ``rules/`` with ``fixtures/`` beside it, as in the repository.

    Examples in rule files name fixture bundles by a path relative to the rule file.
    """
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    return tmp_path / "rules"
