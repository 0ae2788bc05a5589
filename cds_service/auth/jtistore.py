"""The ``jti`` already seen, kept for the token's lifetime: a token is accepted once.

One process keeps them in memory; several workers or replicas share Redis (``CDS_REDIS_URL``),
where ``SET NX`` with an expiry makes "first use" one atomic step for all of them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError


class StoreUnavailable(Exception):
    """The shared store cannot be asked: the call is refused as transient, not trusted."""


class ReplayStore(Protocol):
    async def first_use(self, iss: str, jti: str, seconds: int) -> bool:
        """True the first time (``iss``, ``jti``) is seen within ``seconds``."""
        ...

    async def aclose(self) -> None: ...

    async def ready(self) -> str | None:
        """For ``/ready``: None when ``jti`` can be recorded, else why not."""
        ...


def _key(iss: str, jti: str) -> str:
    """A fixed-length key: a client's ``jti`` may be any text, and is not ours to store."""
    return hashlib.sha256(f"{iss}\0{jti}".encode()).hexdigest()


class MemoryReplay:
    """One process's memory: entries are dropped once their token has expired."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._next_sweep = 0.0

    async def first_use(self, iss: str, jti: str, seconds: int) -> bool:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._until = {k: until for k, until in self._until.items() if until > now}
            self._next_sweep = now + 60
        key = _key(iss, jti)
        if self._until.get(key, 0.0) > now:
            return False
        self._until[key] = now + seconds
        return True

    async def ready(self) -> str | None:
        return None

    async def aclose(self) -> None:
        self._until.clear()


class RedisReplay:
    """Redis shared by every worker: ``SET prefix+key 1 NX EX seconds``."""

    def __init__(self, url: str, prefix: str):
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix = prefix

    async def first_use(self, iss: str, jti: str, seconds: int) -> bool:
        try:
            return bool(
                await self._redis.set(self._prefix + _key(iss, jti), b"1", nx=True, ex=seconds)
            )
        except RedisError as error:
            raise StoreUnavailable(f"redis: {type(error).__name__}") from None

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def ready(self) -> str | None:
        try:
            await self._redis.ping()
        except RedisError as error:
            return f"redis: {type(error).__name__}"
        return None
