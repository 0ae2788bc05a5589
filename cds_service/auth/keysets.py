"""A client's public keys: from a JWKS file exchanged out of band, or fetched from its ``jku``.

A fetched set is kept for a lifetime; an unknown ``kid`` fetches it again at once (the client
may have rotated its key), but such refetches happen at most once a minute per URL, so a
stream of made-up ``kid`` values cannot turn the service into a fetching machine. Only URLs on
the client's allow-list reach here (see :mod:`verify`); the fetch has a time and a size
limit and follows no redirect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger("cds_service.auth")

REFETCH_INTERVAL = 60.0
"""Seconds between two fetches of one JWKS for an unknown ``kid``."""
MAX_JWKS_BYTES = 64 * 1024
"""A JWKS of a few keys is 1-5 kB; a larger answer is refused."""
FETCH_SECONDS = 2.0
"""The whole fetch of one JWKS, connection included."""


@dataclass(frozen=True)
class VerifyKey:
    """One public key: its ``kid``, the ``alg`` the JWK pins (if it does), the key object."""

    kid: str
    alg: str | None
    key: Any


class KeyUnavailable(Exception):
    """A JWKS could not be fetched or read: the call is refused (never trusted by default)."""


def parse_jwks(document: Any) -> dict[str, VerifyKey]:
    """The signing keys of a JWK Set by ``kid``; a malformed set or key raises ValueError."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWK Set is a JSON object with a 'keys' list")
    found: dict[str, VerifyKey] = {}
    for index, jwk in enumerate(document["keys"]):
        where = f"key {index + 1}"
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
            raise ValueError(f"{where} has no 'kid'")
        if "d" in jwk:
            raise ValueError(
                f"{where} ({jwk['kid']}) holds a private key: publish only public keys"
            )
        if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("EC", "RSA"):
            continue  # an encryption key, a shared secret or a kind no allowed alg uses
        try:
            key = PyJWK(dict(jwk)).key
        except PyJWKError as error:
            raise ValueError(f"{where} ({jwk['kid']}) is not a usable key: {error}") from None
        if jwk["kid"] in found:
            raise ValueError(f"kid {jwk['kid']} appears twice")
        found[jwk["kid"]] = VerifyKey(jwk["kid"], jwk.get("alg"), key)
    return found


@dataclass
class _Fetched:
    keys: dict[str, VerifyKey]
    at: float


class KeySets:
    """The JWKS of every allowed ``jku``, fetched when first needed and kept for ``lifetime``."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.monotonic):
        self._lifetime, self._clock = lifetime, clock
        self._cache: dict[str, _Fetched] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refetched: dict[str, float] = {}
        """When each URL was last fetched again for an unknown ``kid``."""

    async def key(self, url: str, kid: str) -> VerifyKey | None:
        """The key ``kid`` of the set at ``url``; None if the set, fetched again, lacks it."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:  # one fetch per URL at a time: callers waiting reuse its result
            entry = self._cache.get(url)
            if entry is None or self._clock() - entry.at >= self._lifetime:
                entry = await self._refresh(url)
            last = self._refetched.get(url)
            if kid not in entry.keys and (last is None or self._clock() - last >= REFETCH_INTERVAL):
                log.info("jwks refetch for an unknown kid url=%s", url)
                self._refetched[url] = self._clock()
                entry = await self._refresh(url)
            return entry.keys.get(kid)

    async def _refresh(self, url: str) -> _Fetched:
        try:
            keys = parse_jwks(orjson.loads(await asyncio.wait_for(_download(url), FETCH_SECONDS)))
        except (TimeoutError, httpx.HTTPError, orjson.JSONDecodeError, ValueError) as error:
            # Remembered as empty, so that a failing host is tried again only after a while.
            self._cache[url] = _Fetched({}, self._clock())
            raise KeyUnavailable(f"jwks {url} unusable: {type(error).__name__}: {error}") from None
        self._cache[url] = entry = _Fetched(keys, self._clock())
        return entry


async def _download(url: str) -> bytes:
    async with (
        httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=FETCH_SECONDS) as client,
        client.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
        return bytes(body)
