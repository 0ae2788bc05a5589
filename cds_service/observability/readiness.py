"""Readiness: whether this process should be sent calls, as opposed to ``/health`` (alive).

Each part the service needs registers a check; ``/ready`` answers 200 only when every check
passes. The rule set registers one; a store or Redis that the configuration requires adds its
own with :meth:`Readiness.add` (for example ``app.state.readiness.add("store", store.ping)``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Check = Callable[[], Awaitable[str | None]]
"""None when the part is ready, else why not (no identifiers: it is shown to probes)."""

TIMEOUT = 2.0
"""A check that does not answer within this many seconds counts as not ready."""


class Readiness:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Every check run side by side; ready only when none says why not."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[n]) for n in names))
        checks = {n: r or "ok" for n, r in zip(names, results, strict=True)}
        ready = bool(names) and all(r is None for r in results)
        return ready, {"ready": ready, "checks": checks}

    @staticmethod
    async def _run(check: Check) -> str | None:
        try:
            return await asyncio.wait_for(check(), TIMEOUT)
        except TimeoutError:
            return f"no answer within {TIMEOUT:g} s"
        except Exception as error:  # a failing check is a "not ready", never a 500
            return f"{type(error).__name__}: {error}"
