"""Latency of an order-sign call served entirely by the FHIR fallback, against a local server.

The EHR sends no prefetch; the service queries the FHIR server for every key of the service (the
``patient`` read and the searches; the script prints how many) at once, with the bearer token, on
its shared connection pool. The server is the test suite's: Medplum's FHIR router with its
in-memory repository, on 127.0.0.1, holding every fixture Bundle (``tests/fhir-server``,
installed by ``./dev test``).

For comparison the same call is timed with full prefetch, so the difference is what the
fallback costs. Both go through the ASGI app in-process (``httpx.ASGITransport``) with its
lifespan entered; the FHIR queries go over real loopback HTTP.

Usage, from the repository root after ``./dev test`` has installed everything:
``.venv/bin/python bench/fallback.py [--requests N] [--warm-up N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test suite's server launcher

from cds_service.prefetch import keys as prefetch  # noqa: E402
from cds_service.protocol.messages import OrderSignContext  # noqa: E402
from tests.conftest import request_fixture  # noqa: E402
from tests.servers import TOKEN, LiveService, authorized, fhir_server, live_service  # noqa: E402

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"


def request(fhir: str, with_prefetch: bool) -> dict[str, Any]:
    body = authorized(NAME, fhir)
    if not with_prefetch:
        del body["prefetch"]
    return body


def timed(service: LiveService, body: dict[str, Any], runs: int, warm_up: int) -> list[float]:
    expected = None
    samples = []
    for run in range(warm_up + runs):
        response, seconds = service.timed_post(PATH, json=body)
        if response.status_code != 200:
            sys.exit(f"the call failed: {response.status_code} {response.text}")
        cards = response.json()["cards"]
        expected = expected or cards
        if cards != expected:
            sys.exit("the cards changed between runs")
        if run >= warm_up:
            samples.append(seconds)
    return samples


def server_alone(service: LiveService, fhir: str, runs: int, warm_up: int) -> list[float]:
    """The pgx search alone, sent straight to the FHIR server: the server's own time."""
    body = request_fixture(NAME)
    context = OrderSignContext.model_validate(body["context"])
    template = service.app.state.rules.current.services["oncology-order-sign"].prefetch["pgx"]
    url = f"{fhir}/{prefetch.render(template, context, date.today())}"
    samples = []
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for run in range(warm_up + runs):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            if run >= warm_up:
                samples.append(time.perf_counter() - started)
    return samples


def row(name: str, samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    figures = (statistics.median(samples), cuts[89], cuts[98], statistics.fmean(samples))
    return f"  {name:<30}" + "".join(f"{f * 1000:8.2f}" for f in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed calls per row")
    parser.add_argument("--warm-up", type=int, default=100, help="untimed calls first")
    args = parser.parse_args()
    if args.requests < 2 or args.warm_up < 0:
        parser.error("--requests must be at least 2 and --warm-up at least 0")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Request: {NAME}; {args.requests} timed calls per row after {args.warm_up} warm-up\n")
    # The test server holds every fixture patient and searches them in memory: with eleven
    # prefetch keys it can pass the 2 s default deadline, so the bench allows 10 s (as the
    # fallback tests do) and reports how long the calls really take.
    with fhir_server() as fhir, live_service(fhir_servers=(fhir,), fhir_deadline=10.0) as service:
        full = request(fhir, with_prefetch=True)
        none = request(fhir, with_prefetch=False)
        if service.post(PATH, json=full).json() != service.post(PATH, json=none).json():
            sys.exit("full prefetch and fallback give different cards")
        keys = len(service.app.state.rules.current.services["oncology-order-sign"].keys)
        fallback = f"no prefetch ({keys} FHIR queries)"
        rows = {
            "full prefetch (no FHIR query)": timed(service, full, args.requests, args.warm_up),
            fallback: timed(service, none, args.requests, args.warm_up),
            "FHIR server alone (pgx search)": server_alone(
                service, fhir, args.requests, args.warm_up
            ),
        }
    print(f"  {'latency (ms)':<30}{'p50':>8}{'p90':>8}{'p99':>8}{'mean':>8}")
    for name, samples in rows.items():
        print(row(name, samples))
    cost = statistics.median(rows[fallback]) - statistics.median(
        rows["full prefetch (no FHIR query)"]
    )
    print(f"\n  fallback cost at p50: {cost * 1000:.2f} ms")


if __name__ == "__main__":
    main()
