"""Server CPU per call of this service beside a bare FastAPI app, on the same request bodies.

Wall-clock latency on a shared two-core machine moves with whatever else runs; the CPU time a
server process spends per call does not, much. So the headline figure is CPU per call, read from
each process's CPU-time clock for each server's whole process tree (the engine's child
processes included; ``live.py``), and the ratio to the floor: ``bench/floor_app.py``, which
parses the body and answers one fixed card.

Both servers run under uvicorn on 127.0.0.1, each pinned to its own core with ``taskset``
(core 0 for the service, core 1 for the floor); this script is the client. Each request is sent

- **cold**: every call a body the service has not seen (resource ids, the Patient's
  ``meta.versionId``, every time and every measured value changed per call), as at a new
  patient's first order;
- **warm**: the same body again and again, as when an EHR resends the same genotypes, Patient
  and Conditions at each order-select and order-sign;

at concurrency 1 (one kept-alive connection; p50 and p99 are per call) and 32. The bodies are
made before each row's clock starts, and sent back to back.

With ``--rounds N`` each row measures the two servers N times in turn (the first of the two
alternating) and prints the medians, with the range of the N ratios: on this shared machine one
run's ratio can be half or twice the next one's.

The requests (``--only`` picks some by name):

- ``dpyd-55``: order-sign, the DPYD fixture with 48 more Observations (``order_sign.py``'s).
- ``breast-order``: order-sign, mCODE breast patient ``mcode-jenny-m-doxorubicin``.
- ``breast-view``: patient-view, the same patient.
- ``dpyd-1000``: order-sign, the DPYD fixture padded to 1,000 prefetched resources; with
  ``dpyd-55`` it gives the cost per added resource.

Usage: ``.venv/bin/python bench/vs_floor.py [--calls N] [--rounds N] [--only NAME ...]``.
Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import httpx
import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import order_sign  # noqa: E402
from live import SERVICE, Server, server  # noqa: E402

REQUESTS = ROOT / "fixtures/fhir/requests"
CONCURRENCY = (1, 32)


# --- the requests ------------------------------------------------------------------------------


def padded_request(total: int) -> dict[str, Any]:
    """The ``dpyd-55`` request with more visits of vitals and labs, to ``total`` resources."""
    request = order_sign.build_request()
    patient_id = request["context"]["patientId"]
    bundle = request["prefetch"]["pgx"]
    visit = -1
    while count_resources(request) < total:
        for measurement in order_sign.MEASUREMENTS:
            if count_resources(request) >= total:
                break
            resource = order_sign._observation(patient_id, visit, measurement)
            bundle["entry"].append({"resource": resource, "search": {"mode": "match"}})
        visit -= 1
    bundle["total"] = len(bundle["entry"])
    return request


def count_resources(request: dict[str, Any]) -> int:
    total = 0
    for value in (request.get("prefetch") or {}).values():
        if value and value.get("resourceType") == "Bundle":
            total += len(value.get("entry", []))
        elif value:
            total += 1
    return total


def fixture(name: str) -> dict[str, Any]:
    return orjson.loads((REQUESTS / f"{name}.json").read_bytes())


REQUEST_BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "dpyd-55": order_sign.build_request,
    "breast-order": lambda: fixture("mcode-jenny-m-doxorubicin.order-sign"),
    "breast-view": lambda: fixture("mcode-jenny-m.patient-view"),
    "dpyd-1000": lambda: padded_request(1000),
}


class Bodies:
    """Request bodies for one request: the same bytes (warm) or new content per call (cold)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.service = request["hook"]
        self.path = "/cds-services/" + (
            "oncology-order-sign" if request["hook"] == "order-sign" else "oncology-patient-view"
        )
        self.resources = count_resources(request)
        self.template = orjson.dumps(request).decode()
        self.ids = frozenset(
            resource["id"]
            for resource in _resources(request)
            if resource.get("resourceType") != "Patient" and resource.get("id")
        )
        self.warm = self.template.encode()

    def cold(self, n: int) -> bytes:
        """The body with every resource id but the Patient's suffixed, a new Patient version,
        and every time and measured value another, as a new patient's record would have.

        A time with a zone becomes another instant of the same second (``.{n:06d}``), a
        quantity's value another by a millionth or less: no time or quantity a rule reads is
        one the service has read before (``prefetch/reading.py`` remembers the objects that
        read as sent), and no card changes but by chance at a threshold.
        """

        def renamed(found: re.Match[str]) -> str:
            ident = found[2]
            if ident not in self.ids:
                return found[0]
            return f'{found[1]}{ident[:40]}-{n:x}"'  # within FHIR's 64 characters

        text = _ID.sub(renamed, self.template)
        text = _TIME.sub(lambda m: f'"{m[1]}.{n:06d}{m[2]}"', text)
        text = _VALUE.sub(lambda m: f'"value":{m[1]}{"" if m[2] else "."}{n:06d}', text)
        return text.replace(
            '"resourceType":"Patient",',
            f'"resourceType":"Patient","meta":{{"versionId":"v{n}"}},',
            1,
        ).encode()


_ID = re.compile(r'("id":"|/)([^"/]+)"')
"""An id as JSON text: a resource's own, or the end of a reference or a full URL. One pass over
the body: replacing each of a thousand ids in turn took half a second a body."""
_TIME = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)"')
"""A time with seconds and a zone, as JSON text: FHIR allows up to nine digits of fraction."""
_VALUE = re.compile(r'"value":(\d+(\.\d+)?)')
"""A quantity's value (the only ``value`` JSON writes as a bare number), the fraction apart."""


def _resources(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for value in (request.get("prefetch") or {}).values():
        if value and value.get("resourceType") == "Bundle":
            yield from (entry["resource"] for entry in value.get("entry", []))
        elif value:
            yield value
    orders = (request.get("context") or {}).get("draftOrders") or {}
    yield from (entry["resource"] for entry in orders.get("entry", []))


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    cpu_ms: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def median(cls, results: list[Result]) -> Result:
        """Each figure's median over rounds."""
        return cls(*(statistics.median(getattr(r, f.name) for r in results) for f in fields(cls)))


def measure(target: Server, bodies: Bodies, cold: bool, calls: int, concurrency: int) -> Result:
    """The server's CPU per call and the calls' latencies, the bodies made before the clock
    starts. A cold ``dpyd-1000`` body took the client half a second to make (18 ms since its
    ids are replaced in one pass); made between calls, it left each call after half a second
    of idle (some 50 % dearer for both servers: the core's caches went to whatever ran
    meanwhile), counted the server's work by the clock (the rules folder's polling) to the
    call, and kept the 32 connections waiting on the client."""
    offset = time.monotonic_ns() % 2**40  # cold bodies never repeat across runs of a request
    sent = [bodies.cold(offset + n) if cold else bodies.warm for n in range(calls)]
    before = target.cpu_seconds()
    if concurrency == 1:
        latencies = _sequential(target, bodies.path, sent)
    else:
        latencies = asyncio.run(_concurrent(target, bodies.path, sent, concurrency))
    cpu = (target.cpu_seconds() - before) / calls
    latencies.sort()
    return Result(
        cpu * 1000,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99) - 1] * 1000,
    )


HEADERS = {"content-type": "application/json"}


def _check(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url} answered {response.status_code}")


def _sequential(target: Server, path: str, sent: list[bytes]) -> list[float]:
    latencies = []
    with httpx.Client(base_url=target.base, timeout=60) as client:
        for body in sent:
            start = time.perf_counter()
            response = client.post(path, content=body, headers=HEADERS)
            latencies.append(time.perf_counter() - start)
            _check(response)
    return latencies


async def _concurrent(
    target: Server, path: str, sent: list[bytes], concurrency: int
) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    bodies = iter(sent)
    async with httpx.AsyncClient(base_url=target.base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            for body in bodies:
                start = time.perf_counter()
                response = await client.post(path, content=body, headers=HEADERS)
                latencies.append(time.perf_counter() - start)
                _check(response)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def side_by_side(
    service: Server,
    floor: Server,
    bodies: Bodies,
    cold: bool,
    calls: int,
    concurrency: int,
    rounds: int,
) -> list[tuple[Result, Result]]:
    """One (service, floor) pair of results per round, the two measured back to back, the
    first of them in turn: the machine's speed moves by up to half within minutes, and a
    ratio is only as good as the two figures' being taken in the same minute."""
    pairs = []
    for round_ in range(rounds):
        targets = (service, floor) if round_ % 2 == 0 else (floor, service)
        found = {t.name: measure(t, bodies, cold, calls, concurrency) for t in targets}
        pairs.append((found[service.name], found[floor.name]))
    return pairs


def medians(pairs: list[tuple[Result, Result]]) -> tuple[Result, Result]:
    """The service's and the floor's figures, each the median of the rounds."""
    return Result.median([ours for ours, _ in pairs]), Result.median([base for _, base in pairs])


def row(name: str, mode: str, concurrency: int, pairs: list[tuple[Result, Result]]) -> str:
    """The medians of the rounds; with more than one round, the ratios' range beside."""
    ours, base = medians(pairs)
    ratios = sorted(o.cpu_ms / b.cpu_ms for o, b in pairs)
    spread = f" ({ratios[0]:.1f}-{ratios[-1]:.1f})" if len(ratios) > 1 else ""
    return (
        f"{name:<14}{mode:<6}{concurrency:>3}  {ours.cpu_ms:>9.2f}ms "
        f"{base.cpu_ms:>7.2f}ms {statistics.median(ratios):>5.1f}x  "
        f"{ours.p50_ms:>9.2f}/{ours.p99_ms:<8.2f}"
        f"{base.p50_ms:>8.2f}/{base.p99_ms:<7.2f}{spread}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=1000, help="calls per row (a tenth at 1,000 resources)"
    )
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--only", nargs="*", choices=sorted(REQUEST_BUILDERS), default=None)
    parser.add_argument(
        "--rounds", type=int, default=1, help="each row's servers measured this many times in turn"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    names = args.only or list(REQUEST_BUILDERS)
    floor_cmd = [sys.executable, "-m", "uvicorn", "floor_app:app"]
    cores = os.cpu_count()
    print(f"Python {sys.version.split()[0]}, {cores} cores; CPU per call from the CPU-time clocks")
    header = (
        f"{'request':<14}{'mode':<6}{'c':>3}  {'service CPU':>11} {'floor CPU':>9} {'ratio':>6}"
        f"  {'service p50/p99 ms':>18}  {'floor p50/p99 ms':>16}"
    )
    with server("service", SERVICE, 0) as service, server("floor", floor_cmd, 1) as floor:
        print(header)
        per_resource: dict[str, dict[str, float]] = {}
        for name in names:
            bodies = Bodies(REQUEST_BUILDERS[name]())
            calls = max(args.calls // 10, 20) if bodies.resources > 500 else args.calls
            for target in (service, floor):
                measure(target, bodies, cold=True, calls=args.warm_up, concurrency=1)
            for mode in ("cold", "warm"):
                for concurrency in CONCURRENCY:
                    cold = mode == "cold"
                    pairs = side_by_side(
                        service, floor, bodies, cold, calls, concurrency, args.rounds
                    )
                    print(row(name, mode, concurrency, pairs), flush=True)
                    if cold and concurrency == 1:
                        ours, base = medians(pairs)
                        per_resource[name] = {
                            "service": ours.cpu_ms,
                            "floor": base.cpu_ms,
                            "resources": bodies.resources,
                        }
        if {"dpyd-55", "dpyd-1000"} <= per_resource.keys():
            small, large = per_resource["dpyd-55"], per_resource["dpyd-1000"]
            added = large["resources"] - small["resources"]
            service_us = (large["service"] - small["service"]) / added * 1000
            floor_us = (large["floor"] - small["floor"]) / added * 1000
            print(
                f"per added resource (cold, c=1): service {service_us:.1f} µs, "
                f"floor {floor_us:.1f} µs, {service_us / floor_us:.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
