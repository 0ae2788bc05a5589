"""The client JWT (CDS Hooks 2.0.1 §Trusting CDS Clients), with real keys and a real JWKS host.

Every refused token gets the same 401; a valid one gets its answer. The reasons are only in
the log, which never holds the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from cds_service.app import create_app
from cds_service.auth.guard import AuthConfigError
from cds_service.auth.jtistore import RedisReplay
from cds_service.auth.trust import TrustFileInvalid, load_trust
from cds_service.config import Settings
from tests.conftest import (
    ROOT,
    RULES,
    Client,
    client_for,
    free_port,
    request_fixture,
    running_service,
)
from tests.jwtkit import PUBLIC_BASE, JwksHost, Signer, claims_of, unsigned
from tests.servers import live_service

ISS_A = "https://ehr-a.example.org"
"""A client whose ES384 keys are at a ``jku``."""
ISS_B = "https://ehr-b.example.org"
"""A client whose RS384 key was exchanged out of band (``jwks_file``)."""
DISCOVERY = "/cds-services"
ORDER_SIGN = "/cds-services/oncology-order-sign"
REDIS = "redis://127.0.0.1:6379/0"
UNAUTHORIZED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "login", "diagnostics": "the call is not authorized"}],
}


@dataclass
class World:
    es: Signer
    rs: Signer
    host: JwksHost
    trust: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("trust")
    es, rs = Signer("ES384"), Signer("RS384")
    with JwksHost(es) as host:
        (folder / "ehr-b.jwks.json").write_text(json.dumps({"keys": [rs.jwk()]}))
        trust = folder / "trust.yaml"
        trust.write_text(
            f"clients:\n  - iss: {ISS_A}\n    jku: [{host.url()}]\n"
            f"  - iss: {ISS_B}\n    jwks_file: ehr-b.jwks.json\n    algorithms: [RS384]\n"
        )
        yield World(es, rs, host, trust)


def trusting(world: World) -> dict[str, Any]:
    return {"auth": "required", "trust_file": world.trust, "public_base_url": PUBLIC_BASE}


@contextmanager
def secured(world: World) -> Iterator[Client]:
    with client_for(**trusting(world)) as client:
        yield client


@pytest.fixture(scope="module")
def service(world: World) -> Iterator[Client]:
    with secured(world) as client:
        yield client


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def refused(response: Any) -> None:
    """The one answer every refusal gets: nothing in it says which check failed."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    outcome = response.json()
    assert outcome.pop("id") == response.headers["x-request-id"]  # to find the call in the log
    assert outcome == UNAUTHORIZED


def forged(world: World, change: Callable[[dict[str, Any], dict[str, Any]], None]) -> str:
    """A valid client-B token whose header or payload ``change`` edits, signature dropped."""
    header, payload = claims_of(world.rs.token(ISS_B, DISCOVERY))
    change(header, payload)
    return unsigned(header, payload)


def _tampered(world: World) -> str:
    token = world.es.token(ISS_A, DISCOVERY)
    head, _, signature = token.split(".")
    other = world.es.token(ISS_A, DISCOVERY, {"tenant": "another-hospital"}).split(".")[1]
    return f"{head}.{other}.{signature}"


def _hs256_with_rsa_public_key(world: World) -> str:
    header, payload = claims_of(world.rs.token(ISS_B, DISCOVERY))
    return unsigned({**header, "alg": "HS256"}, payload, secret=world.rs.public_pem())


NOW = int(time.time())
CASES: dict[str, Callable[[World], str | None]] = {
    "no token": lambda w: None,
    "malformed": lambda w: "not-a-jwt",
    "alg none": lambda w: forged(w, lambda h, _: h.update(alg="none")),
    "HS256 signed with the RSA public key": _hs256_with_rsa_public_key,
    "tampered payload": _tampered,
    "jku not on the client's list": lambda w: w.es.token(ISS_A, DISCOVERY, jku=w.host.url("x")),
    "wrong iss": lambda w: w.es.token("https://intruder.example.org", DISCOVERY),
    "wrong aud": lambda w: w.es.token(ISS_A, DISCOVERY, {"aud": PUBLIC_BASE + ORDER_SIGN}),
    "aud from the Host header": lambda w: w.es.token(ISS_A, DISCOVERY, {"aud": "http://cds.test"}),
    "expired": lambda w: w.es.token(ISS_A, DISCOVERY, {"exp": int(time.time()) - 61}),
    "nbf in the future": lambda w: w.es.token(ISS_A, DISCOVERY, {"nbf": int(time.time()) + 120}),
    "iat in the future": lambda w: w.es.token(ISS_A, DISCOVERY, {"iat": int(time.time()) + 120}),
    "no jti": lambda w: w.es.token(ISS_A, DISCOVERY, {"jti": None}),
    "typ not JWT": lambda w: w.es.token(ISS_A, DISCOVERY, typ="at+jwt"),
    "alg the client may not use": lambda w: Signer("ES384", kid=w.rs.kid).token(ISS_B, DISCOVERY),
}


@pytest.mark.parametrize("case", CASES)
def test_every_bad_token_gets_the_same_401(
    world: World, service: Client, case: str, caplog: pytest.LogCaptureFixture
):
    token = CASES[case](world)
    with caplog.at_level(logging.WARNING, logger="cds_service.auth"):
        refused(service.get(DISCOVERY, headers=bearer(token)))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "cds_service.auth"]
    assert line.startswith("unauthorized call path=/cds-services reason=")
    if token:
        assert token not in caplog.text
    assert world.host.fetches("x") == 0, "a jku off the list is never fetched"


def test_a_valid_token_opens_discovery_service_calls_and_feedback(world: World, service: Client):
    assert service.get(DISCOVERY, headers=bearer(world.es.token(ISS_A, DISCOVERY))).json()
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    answer = service.post(ORDER_SIGN, json=body, headers=bearer(world.rs.token(ISS_B, ORDER_SIGN)))
    assert answer.status_code == 200, answer.text
    assert answer.json()["cards"]
    feedback = ORDER_SIGN + "/feedback"
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-11-21T10:00:00Z"}
    sent = service.post(
        feedback, json={"feedback": [item]}, headers=bearer(world.es.token(ISS_A, feedback))
    )
    assert sent.json() == {"received": 1}
    refused(service.post(ORDER_SIGN, json=body))


def test_tolerated_extras_and_a_list_aud(world: World, service: Client):
    extras = {"sub": "epic-client", "tenant": "t1", "aud": [PUBLIC_BASE + DISCOVERY, "urn:x"]}
    extras["nbf"] = int(time.time()) - 30
    token = world.es.token(ISS_A, DISCOVERY, extras)
    assert service.get(DISCOVERY, headers=bearer(token)).status_code == 200


def test_a_token_is_used_once(world: World, service: Client):
    token = world.rs.token(ISS_B, DISCOVERY)
    assert service.get(DISCOVERY, headers=bearer(token)).status_code == 200
    refused(service.get(DISCOVERY, headers=bearer(token)))


@pytest.fixture
def shared_redis() -> Iterator[dict[str, str]]:
    prefix = f"test-auth-{uuid.uuid4().hex}:"
    yield {"redis_url": REDIS, "redis_prefix": prefix}
    store = redis.Redis.from_url(REDIS)
    for key in store.scan_iter(match=prefix + "*"):
        store.delete(key)
    store.close()


def test_ready_says_whether_the_shared_replay_store_answers():
    async def answers(url: str) -> str | None:
        replay = RedisReplay(url, f"test-ready-{uuid.uuid4().hex}:")
        try:
            return await replay.ready()
        finally:
            await replay.aclose()

    assert asyncio.run(answers(REDIS)) is None
    down = asyncio.run(answers(f"redis://127.0.0.1:{free_port()}/0"))
    assert down is not None
    assert down.startswith("redis: ")


def test_a_token_replayed_to_a_second_worker_is_refused(world: World, shared_redis):
    token = world.es.token(ISS_A, DISCOVERY)
    settings = {**trusting(world), **shared_redis}
    with live_service(**settings) as first, live_service(**settings) as second:
        assert first.get(DISCOVERY, headers=bearer(token)).status_code == 200
        refused(second.get(DISCOVERY, headers=bearer(token)))
    store = redis.Redis.from_url(REDIS)
    (key,) = store.scan_iter(match=shared_redis["redis_prefix"] + "*")
    assert 0 < store.ttl(key) <= 300 + 60 + 1, "kept for the token's lifetime and the skew"
    store.close()


def test_an_unknown_kid_is_refetched_once_then_refused(world: World):
    stranger = Signer("ES384")
    with secured(world) as client:
        assert client.get(DISCOVERY, headers=bearer(world.es.token(ISS_A, DISCOVERY))).is_success
        before = world.host.fetches()
        refused(client.get(DISCOVERY, headers=bearer(stranger.token(ISS_A, DISCOVERY))))
        assert world.host.fetches() == before + 1
        refused(client.get(DISCOVERY, headers=bearer(stranger.token(ISS_A, DISCOVERY))))
        assert world.host.fetches() == before + 1, "at most one refetch a minute"


def test_a_rotated_key_is_trusted_at_its_first_call(world: World):
    successor = Signer("ES384")
    with secured(world) as client:
        assert client.get(DISCOVERY, headers=bearer(world.es.token(ISS_A, DISCOVERY))).is_success
        world.host.keys = [successor]
        try:
            token = successor.token(ISS_A, DISCOVERY, jku=world.host.url())
            assert client.get(DISCOVERY, headers=bearer(token)).status_code == 200
        finally:
            world.host.keys = [world.es]


def test_without_a_trust_file_the_service_refuses_to_start():
    with pytest.raises(AuthConfigError, match="CDS_TRUST_FILE") as raised:
        create_app(Settings(rules_dir=RULES))
    assert "CDS_AUTH=off" in str(raised.value)


def test_a_trust_file_problem_names_its_line(tmp_path: Path):
    trust = tmp_path / "trust.yaml"
    trust.write_text(
        "clients:\n  - iss: https://a.example.org\n    jku: [https://a/k]\n"
        "    algorithms: [ES384, HS256]\n  - iss: https://b.example.org\n"
    )
    settings = Settings(rules_dir=RULES, trust_file=trust, public_base_url=PUBLIC_BASE)
    with pytest.raises(TrustFileInvalid) as raised:
        create_app(settings)
    first, second = raised.value.problems
    assert (first.line, second.line) == (4, 5)
    assert "HS256" in first.message
    assert "jku" in second.message


def test_auth_off_is_explicit_and_shown(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING), client_for(auth="off") as client:
        assert client.get("/health").json()["auth"] == "off"
        assert client.get(DISCOVERY).status_code == 200
    assert "every caller is trusted" in caplog.text


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cds_service.cli", *args]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)


def test_an_integrator_calls_a_secured_service_with_a_generated_key(tmp_path: Path):
    made = cli("keys", "generate", "--kid", "ehr-1", "--out", str(tmp_path / "keys"))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "keys" / "ehr-1.private.pem").stat().st_mode & 0o077 == 0
    trust = tmp_path / "trust.yaml"
    trust.write_text(f"clients:\n  - iss: {ISS_A}\n    jwks_file: keys/ehr-1.jwks.json\n")
    env = {"CDS_AUTH": "required", "CDS_TRUST_FILE": str(trust), "CDS_PUBLIC_BASE_URL": PUBLIC_BASE}
    key = str(tmp_path / "keys" / "ehr-1.private.pem")
    minted = cli(
        "token", "--key", key, "--kid", "ehr-1", "--iss", ISS_A, "--aud", PUBLIC_BASE + DISCOVERY
    )
    assert minted.returncode == 0, minted.stderr
    with running_service(RULES, **env) as base:
        token = minted.stdout.strip()
        assert httpx.get(base + DISCOVERY, headers=bearer(token)).status_code == 200
        assert httpx.get(base + DISCOVERY, headers=bearer(token)).status_code == 401
        assert httpx.get(base + "/health").json()["auth"] == "required"


def test_serve_without_a_trust_file_says_how_to_configure():
    started = cli("serve", "--port", "0", env={"CDS_AUTH": "required", "CDS_TRUST_FILE": ""})
    assert started.returncode == 1
    assert "CDS_TRUST_FILE" in started.stderr
    assert "Securing the service" in started.stderr


def test_the_sandbox_example_trust_file_is_valid():
    clients = load_trust(ROOT / "docs" / "trust" / "sandbox-example.yaml")
    (sandbox,) = clients.values()
    assert sandbox.algorithms == ("ES384",)
    assert list(sandbox.keys) == ["44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"]
