"""When the client's JWKS host or the shared ``jti`` store misbehaves, no caller is trusted.

A JWKS that is too large or too slow refuses the call (401) within the fetch's time limit; a
Redis that cannot be reached answers 503, never a 200 that skipped the replay check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cds_service.app import create_app
from cds_service.auth.guard import AuthConfigError
from cds_service.auth.keysets import KeySets
from cds_service.config import Settings
from tests.conftest import RULES, Client, client_for, free_port
from tests.jwtkit import PUBLIC_BASE, Signer
from tests.servers import Handler, StandIn

ISS = "https://ehr.example.org"
DISCOVERY = "/cds-services"


@contextmanager
def trusting_a_jku(tmp_path: Path, handler: Handler, **settings: object) -> Iterator[Client]:
    """A secured app whose one client's JWKS is served by ``handler`` on loopback."""
    with StandIn(handler) as host:
        trust = tmp_path / "trust.yaml"
        trust.write_text(f"clients:\n  - iss: {ISS}\n    jku: [{host.url}/jwks.json]\n")
        defaults = {"auth": "required", "trust_file": trust, "public_base_url": PUBLIC_BASE}
        with client_for(**{**defaults, **settings}) as client:
            yield client


def call(client: Client, signer: Signer) -> int:
    token = signer.token(ISS, DISCOVERY)
    return client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_jwks_larger_than_the_limit_is_not_read(tmp_path: Path):
    signer = Signer("ES384")
    padding = {"kid": "pad", "kty": "oct", "k": "x" * 70_000}
    body = json.dumps({"keys": [signer.jwk(), padding]}).encode()
    with trusting_a_jku(tmp_path, lambda _: (200, {}, body)) as client:
        assert call(client, signer) == 401


def test_a_slow_jwks_host_is_given_up_on_in_time(tmp_path: Path):
    signer = Signer("ES384")

    def slow(_: object) -> tuple[int, dict[str, str], bytes]:
        time.sleep(4)
        return 200, {}, json.dumps({"keys": [signer.jwk()]}).encode()

    with trusting_a_jku(tmp_path, slow) as client:
        started = time.monotonic()
        assert call(client, signer) == 401
        assert time.monotonic() - started < 3.5


def test_a_jwks_with_other_kinds_of_keys_still_serves_its_signing_keys(tmp_path: Path):
    signer = Signer("RS384")
    secret = {"kid": "shared", "kty": "oct", "k": "c2VjcmV0"}
    body = json.dumps({"keys": [secret, signer.jwk()]}).encode()
    with trusting_a_jku(tmp_path, lambda _: (200, {}, body)) as client:
        assert call(client, signer) == 200


def test_an_unreachable_redis_is_503_not_trust(tmp_path: Path):
    signer = Signer("ES384")
    body = json.dumps({"keys": [signer.jwk()]}).encode()
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with trusting_a_jku(tmp_path, lambda _: (200, {}, body), redis_url=closed) as client:
        token = signer.token(ISS, DISCOVERY)
        answer = client.get(DISCOVERY, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer.json()["issue"][0]["code"] == "transient"


@pytest.mark.parametrize("base", ["cds.example.org", "ftp://cds.example.org", "https://x/?a=1"])
def test_a_public_base_url_that_is_not_one_is_refused_at_start(tmp_path: Path, base: str):
    trust = tmp_path / "trust.yaml"
    trust.write_text(f"clients:\n  - iss: {ISS}\n    jku: [https://ehr.example.org/jwks]\n")
    with pytest.raises(AuthConfigError, match="CDS_PUBLIC_BASE_URL"):
        create_app(Settings(rules_dir=RULES, trust_file=trust, public_base_url=base))


def test_a_fetched_jwks_is_kept_for_its_lifetime_then_fetched_again():
    signer = Signer("ES384")
    body = json.dumps({"keys": [signer.jwk()]}).encode()
    clock = [1000.0]
    keysets = KeySets(lifetime=600, clock=lambda: clock[0])
    with StandIn(lambda _: (200, {}, body)) as host:
        url = host.url + "/jwks.json"

        async def lookups() -> None:
            assert await keysets.key(url, signer.kid) is not None
            clock[0] += 599
            assert await keysets.key(url, signer.kid) is not None
            assert len(host.seen) == 1, "kept within its lifetime"
            clock[0] += 1
            assert await keysets.key(url, signer.kid) is not None
            assert len(host.seen) == 2, "fetched again once it expired"

        asyncio.run(lookups())
