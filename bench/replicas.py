"""Workers and replicas under load: throughput, p99, and calls lost while a replica restarts.

Three runs of real ``cds-service serve`` processes on 127.0.0.1, each loaded by one client
with a small pool of kept-alive connections (as an EHR holds), for ``--seconds`` each:

1. one replica, 1 worker;
2. one replica, 2 workers (``--workers 2``): its connections must spread over both;
3. two replicas of 1 worker behind a small load balancer of this script's own, one of them
   stopped with SIGTERM and started again halfway through.

The balancer deals each call to the next replica, and sends it to the other one when a
replica refuses the connection or closes it unanswered, as nginx's ``proxy_next_upstream
error`` does (a CDS call changes nothing, so a call sent again is safe). The client retries a
refused connection to the balancer. A call counts as failed when it ends with anything other
than 200.

Usage: ``python bench/replicas.py [--seconds 10] [--connections 16]`` with the project
installed. The figures depend on what else the machine runs: compare runs made together.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CDS_SERVICE = Path(sys.executable).parent / "cds-service"
REQUEST = ROOT / "fixtures/fhir/requests/dpyd-2a-13-capecitabine.order-sign.json"
CALL = "/cds-services/oncology-order-sign"
RESENT = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""Failures where the replica gave no answer: the balancer sends the call to the other one."""


class Replica:
    """One ``cds-service serve`` process; ``port`` stays the same across a restart."""

    def __init__(self, workers: int, port: int = 0):
        self.workers, self.port = workers, port
        self.log = Path(tempfile.mkstemp(prefix="cds-replica-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "CDS_TODAY": "2026-11-21",
            "CDS_RULES_RELOAD_SECONDS": "0",
            "CDS_AUTH": "off",  # the bench's own replicas, on loopback
            "CDS_DATABASE_URL": os.environ.get("CDS_DATABASE_URL", "off"),
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(CDS_SERVICE), "serve", f"--port={self.port}", f"--workers={self.workers}"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()[-2000:]}")
            pattern = r"127\.0\.0\.1:(\d+) " + ("with" if self.workers > 1 else r"\(pid")
            if (found := re.search(pattern, self.log.read_text())) and self._ready(int(found[1])):
                self.port = int(found[1])
                return
            time.sleep(0.2)
        raise RuntimeError("serve did not start in 120 s")

    @staticmethod
    def _ready(port: int) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


async def balance(replicas: list[Replica], body: bytes, stats: dict[str, int]) -> httpx.Response:
    """One call through the balancer: the next replica, or the others when it gives no answer."""
    start = next(_turn)
    last: Exception | None = None
    for step in range(len(replicas)):
        replica = replicas[(start + step) % len(replicas)]
        try:
            return await _upstream.post(
                f"http://127.0.0.1:{replica.port}{CALL}",
                content=body,
                headers={"Content-Type": "application/json"},
            )
        except RESENT as error:
            stats["resent"] += 1
            last = error
    raise last or RuntimeError("no replica")


_turn = itertools.count()
_upstream: httpx.AsyncClient


async def load(
    seconds: float, connections: int, call: Any, halfway: Any = None
) -> tuple[list[float], Counter[str], float]:
    """Latencies of the calls that succeeded, why the others failed, and the seconds taken."""
    latencies: list[float] = []
    failed: Counter[str] = Counter()
    started = time.perf_counter()
    stop_at = started + seconds

    async def one_connection() -> None:
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            try:
                response = await call()
                why = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                why = type(error).__name__
            if why is None:
                latencies.append(time.perf_counter() - t)
            else:
                failed[why] += 1

    tasks = [asyncio.create_task(one_connection()) for _ in range(connections)]
    if halfway is not None:
        await asyncio.sleep(seconds / 2)
        await asyncio.to_thread(halfway)
    await asyncio.gather(*tasks)
    return latencies, failed, time.perf_counter() - started


def _report(
    name: str, latencies: list[float], failed: Counter[str], elapsed: float, **extra: Any
) -> dict[str, Any]:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan")
    row = {
        "run": name,
        "calls": len(latencies),
        "failed": sum(failed.values()),
        "failed_by": dict(failed),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
        "p99_ms": round(p99 * 1000, 1),
        **extra,
    }
    print(json.dumps(row), flush=True)
    return row


async def direct(replica: Replica, body: bytes, seconds: float, connections: int) -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def call() -> httpx.Response:
            return await client.post(
                f"http://127.0.0.1:{replica.port}{CALL}",
                content=body,
                headers={"Content-Type": "application/json"},
            )

        await load(2, connections, call)  # warm-up: every connection opened, caches filled
        name = f"1 replica, {replica.workers} worker{'s' if replica.workers > 1 else ''}"
        _report(name, *await load(seconds, connections, call))


async def behind_balancer(replicas: list[Replica], body: bytes, seconds: float, n: int) -> None:
    global _upstream
    stats = {"resent": 0}
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(limits=limits, timeout=30) as _upstream:

        async def call() -> httpx.Response:
            return await balance(replicas, body, stats)

        def restart() -> None:
            began = time.perf_counter()
            replicas[0].stop()
            replicas[0].start()
            print(f"replica restarted in {time.perf_counter() - began:.1f} s", flush=True)

        await load(2, n, call)
        measured = await load(seconds, n, call, restart)
        _report("2 replicas x 1 worker, one restarted", *measured, resent=stats["resent"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    body = REQUEST.read_bytes()
    print(f"{os.cpu_count()} cores; {args.connections} kept-alive connections", flush=True)
    for workers in (1, 2):
        replica = Replica(workers)
        replica.start()
        try:
            asyncio.run(direct(replica, body, args.seconds, args.connections))
        finally:
            replica.stop()
    replicas = [Replica(1), Replica(1)]
    for replica in replicas:
        replica.start()
    try:
        asyncio.run(behind_balancer(replicas, body, args.seconds * 2, args.connections))
    finally:
        for replica in replicas:
            replica.stop()


if __name__ == "__main__":
    main()
