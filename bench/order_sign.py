"""Latency, throughput and memory of the ``oncology-order-sign`` service for one realistic request.

An order-sign call sits in the prescriber's path: the EHR waits for the cards before it lets the
order be signed. This script measures how long the service takes with a chart-sized prefetch.

The request is the fixture ``dpyd-c1905-het-capecitabine.order-sign.json`` with 48 more
Observations in its ``pgx`` prefetch: 45 vital signs and labs from nine chemotherapy visits, and
genotypes for three genes other than DPYD (the script prints the resulting counts and size).
The pgx prefetch query asks only for PGx codes, so an EHR that honours it would not send the
vitals and labs; they are there to check that the service skips resources no rule reads at
little cost.

It measures, sequentially and in-process, after a warm-up:

1. ``service.call`` on the parsed request: prefetch -> facts -> engine -> cards.
2. The whole HTTP handler through ``httpx.ASGITransport``: body reading, JSON parsing, request
   validation, the pipeline and serialisation. No network, TLS or uvicorn HTTP parsing.
3. Where the time of one request goes, stage by stage (median per stage over the runs).
4. Peak RSS, and the RSS growth over the timed runs of 1 and 2. RSS, unlike ``tracemalloc``, also
   sees the durable-rules C core; RSS that stays flat over thousands of requests means no leak.

Usage: ``python bench/order_sign.py [--requests N] [--warm-up N]``. Linux only: RSS is read from
``/proc/self/statm``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import platform
import resource
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import Any, NamedTuple

import httpx
import orjson
from fastapi import FastAPI

from cds_service import facts, service
from cds_service.app import create_app
from cds_service.cards import render as cards
from cds_service.config import Settings
from cds_service.prefetch import keys as prefetch
from cds_service.protocol import fhir
from cds_service.protocol.messages import CdsResponse, HookRequest
from cds_service.ruleset.compiled import RuleSet, Service

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "fixtures/fhir/requests/dpyd-c1905-het-capecitabine.order-sign.json"
)
SERVICE_ID = "oncology-order-sign"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
HGNC = "http://www.genenames.org"
EDT = timezone(timedelta(hours=-4))
"""Columbus, OH in summer: every visit below falls inside US daylight saving time."""
LAST_VISIT = datetime(2026, 9, 25, 8, 40, tzinfo=EDT)
VISITS = 9
CYCLE = timedelta(days=21)


class Measurement(NamedTuple):
    """One kind of vital sign or lab, with its value at the first visit and its drift per visit."""

    loinc: str
    display: str
    category: str
    unit: str
    first: float
    step: float
    reference_range: tuple[float, float] | None = None


MEASUREMENTS = (
    Measurement("29463-7", "Body weight", "vital-signs", "kg", 68.4, -0.35),
    Measurement("8302-2", "Body height", "vital-signs", "cm", 164.0, 0.0),
    Measurement(
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        "laboratory",
        "mg/dL",
        0.78,
        0.01,
        (0.51, 0.95),
    ),
    Measurement(
        "718-7", "Hemoglobin [Mass/volume] in Blood", "laboratory", "g/dL", 13.1, -0.2, (12.0, 15.5)
    ),
    Measurement(
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        "laboratory",
        "10*3/uL",
        6.8,
        -0.3,
        (4.0, 11.0),
    ),
)
OTHER_GENOTYPES = (  # (gene, HGNC id, reported genotype): no rule reads them for capecitabine
    ("CYP2C19", "HGNC:2621", "CYP2C19 *1/*2"),
    ("CYP2D6", "HGNC:2625", "CYP2D6 *1/*4"),
    ("UGT1A1", "HGNC:12530", "UGT1A1 *1/*28"),
)


# --- the request -------------------------------------------------------------------------------


def build_request() -> dict[str, Any]:
    """The fixture request with vitals, labs and other genotypes added to ``prefetch.pgx``."""
    request = orjson.loads(FIXTURE.read_bytes())
    patient_id = request["context"]["patientId"]
    bundle = request["prefetch"]["pgx"]
    dpyd_genotype = bundle["entry"][0]["resource"]
    added = [
        _observation(patient_id, visit, measurement)
        for visit in range(VISITS)
        for measurement in MEASUREMENTS
    ]
    added += [_genotype(dpyd_genotype, *genotype) for genotype in OTHER_GENOTYPES]
    for observation in added:
        fhir.validate(observation)  # raises if the benchmark itself would send invalid R4
    bundle["entry"] += [
        {
            "fullUrl": f"{request['fhirServer']}/Observation/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in added
    ]
    bundle["total"] = len(bundle["entry"])
    return request


def _observation(patient_id: str, visit: int, measurement: Measurement) -> dict[str, Any]:
    taken = LAST_VISIT - (VISITS - 1 - visit) * CYCLE
    quantity = {
        "value": round(measurement.first + visit * measurement.step, 2),
        "unit": measurement.unit,
        "system": UCUM,
        "code": measurement.unit,
    }
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{measurement.loinc}-{taken:%Y%m%d}",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": measurement.category}]}],
        "code": {
            "coding": [
                {"system": LOINC, "code": measurement.loinc, "display": measurement.display}
            ],
            "text": measurement.display,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "encounter": {"reference": f"Encounter/enc-{patient_id}-{taken:%Y%m%d}"},
        "effectiveDateTime": taken.isoformat(),
        "issued": (taken + timedelta(hours=2, minutes=5)).isoformat(timespec="milliseconds"),
        "valueQuantity": quantity,
    }
    if measurement.reference_range:
        low, high = measurement.reference_range
        observation["referenceRange"] = [
            {"low": {**quantity, "value": low}, "high": {**quantity, "value": high}}
        ]
    return observation


def _genotype(template: Mapping[str, Any], gene: str, hgnc: str, reported: str) -> dict[str, Any]:
    """A genotype Observation shaped like the fixture's DPYD one, for another gene."""
    observation = copy.deepcopy(dict(template))
    observation["id"] = f"obs-geno-{gene.lower()}"
    observation["valueCodeableConcept"] = {"text": reported}
    observation["component"][0]["valueCodeableConcept"] = {
        "coding": [{"system": HGNC, "code": hgnc, "display": gene}]
    }
    return observation


def describe(request: Mapping[str, Any]) -> str:
    prefetched: list[Mapping[str, Any]] = []
    for value in request["prefetch"].values():
        is_bundle = value["resourceType"] == "Bundle"
        prefetched += [e["resource"] for e in value.get("entry", [])] if is_bundle else [value]
    kinds = Counter(r["resourceType"] for r in prefetched)
    orders = len(request["context"]["draftOrders"]["entry"])
    return (
        f"{len(prefetched)} prefetched resources "
        f"({', '.join(f'{n} {kind}' for kind, n in kinds.items())}: "
        f"{VISITS * len(MEASUREMENTS)} vital signs and labs, "
        f"{len(OTHER_GENOTYPES)} genotypes of genes other than DPYD), {orders} draft order(s)"
    )


# --- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    samples: list[float]
    """Seconds per request."""
    wall: float
    """Seconds for all the timed requests."""
    rss_before: float
    """MiB resident after the warm-up."""
    rss_after: float


def time_calls(call: Callable[[], object], runs: int, warm_up: int) -> Timed:
    for _ in range(warm_up):
        call()
    rss_before = rss_mib()
    samples = []
    started = perf_counter()
    for _ in range(runs):
        start = perf_counter()
        call()
        samples.append(perf_counter() - start)
    return Timed(samples, perf_counter() - started, rss_before, rss_mib())


async def time_http(app: FastAPI, body: bytes, expected: bytes, runs: int, warm_up: int) -> Timed:
    """As :func:`time_calls`, for POSTs through the ASGI app; checks the first answer."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post() -> httpx.Response:
            return await client.post(
                f"/cds-services/{SERVICE_ID}",
                content=body,
                headers={"content-type": "application/json"},
            )

        first = await post()
        if first.status_code != 200 or first.json() != orjson.loads(expected):
            sys.exit(f"HTTP answer differs from service.call: {first.status_code} {first.text}")
        for _ in range(warm_up):
            await post()
        rss_before = rss_mib()
        samples = []
        started = perf_counter()
        for _ in range(runs):
            start = perf_counter()
            await post()
            samples.append(perf_counter() - start)
        return Timed(samples, perf_counter() - started, rss_before, rss_mib())


class ValidationClock:
    """Wraps ``cds_service.protocol.fhir.validate`` (inside a ``with``) to add up its time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._validate = fhir.validate

    def __enter__(self) -> ValidationClock:
        fhir.validate = self._timed
        return self

    def __exit__(self, *_: object) -> None:
        fhir.validate = self._validate

    def _timed(self, resource: Mapping[str, Any]) -> Any:
        start = perf_counter()
        try:
            return self._validate(resource)
        finally:
            self.seconds += perf_counter() - start
            self.calls += 1


class Laps:
    """The time since the previous lap, by stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = perf_counter()

    def __call__(self, stage: str) -> None:
        now = perf_counter()
        self.seconds[stage] = now - self._last
        self._last = now


def by_stage(
    body: bytes, chosen: Service, rule_set: RuleSet, today: date, clock: ValidationClock
) -> tuple[dict[str, float], bytes]:
    """What the HTTP handler does, stage by stage, with the same steps as ``service.call``."""
    laps = Laps()
    data = orjson.loads(body)
    laps("JSON parse (orjson.loads)")
    request: HookRequest = service.parse_request(data)
    laps("request model (parse_request)")
    context = service.read_context(chosen, request)
    laps("context validation")
    record = prefetch.record(
        context, prefetch.plan(request.prefetch, context, chosen.keys, today), {}
    )
    laps("prefetch plan and record")
    validating = clock.seconds
    found = facts.extract(record, rule_set.knowledge, today)
    laps("fact extraction")
    laps.seconds["  of which FHIR validation (R4B)"] = clock.seconds - validating
    matches = rule_set.evaluate(chosen.hook, found)
    laps("engine evaluate")
    notes = [fact for fact in found if isinstance(fact, facts.Unreadable)]
    firings = [
        cards.Firing(rule, {alias: found[index] for alias, index in match.facts.items()})
        for rule, match in matches
    ]
    rendered = [cards.render(f, record, rule_set, notes) for f in firings]
    response = CdsResponse(cards=[card for card in rendered if not cards.applied(card, record)])
    laps("card rendering")
    wire = response.wire()
    laps("response.wire() (model_dump)")
    encoded = orjson.dumps(wire)
    laps("JSON serialisation (orjson.dumps)")
    return laps.seconds, encoded


def time_stages(
    body: bytes, chosen: Service, rule_set: RuleSet, today: date, runs: int
) -> tuple[list[dict[str, float]], float, bytes]:
    """Seconds by stage for each run, ``fhir.validate`` calls per run, and the last response."""
    by_run: list[dict[str, float]] = []
    with ValidationClock() as clock:
        for _ in range(runs):
            seconds, encoded = by_stage(body, chosen, rule_set, today, clock)
            by_run.append(seconds)
    return by_run, clock.calls / runs, encoded


# --- memory ------------------------------------------------------------------------------------


def rss_mib() -> float:
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- report ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f}"


def latency_row(name: str, timed: Timed) -> str:
    samples = timed.samples
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    figures = (statistics.median(samples), cuts[89], cuts[98], statistics.fmean(samples))
    return f"  {name:<28}" + "".join(ms(f) for f in figures) + f"{len(samples) / timed.wall:10.0f}"


def memory_row(name: str, timed: Timed) -> str:
    growth = timed.rss_after - timed.rss_before
    return (
        f"  {name:<28}{timed.rss_before:8.1f} -> {timed.rss_after:.1f} MiB RSS "
        f"({growth:+.2f} MiB over {len(timed.samples)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per path")
    parser.add_argument("--warm-up", type=int, default=200, help="untimed requests first")
    args = parser.parse_args()
    runs, warm_up = args.requests, args.warm_up
    if runs < 2 or warm_up < 0:
        parser.error("--requests must be at least 2 and --warm-up at least 0")

    app = create_app(replace(Settings.from_env(), auth="off"))  # the JWT: bench/auth.py
    rule_set: RuleSet = app.state.rules.current
    chosen = rule_set.services[SERVICE_ID]
    request = build_request()
    body = orjson.dumps(request)
    parsed = service.parse_request(orjson.loads(body))
    today = datetime.now(UTC).date()
    expected = orjson.dumps(service.call(chosen, parsed, rule_set, today).wire())
    fired = [card["source"]["topic"]["code"] for card in orjson.loads(expected)["cards"]]

    packages = ("fastapi", "pydantic", "fhir.resources", "durable-rules", "orjson", "httpx")
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print("  " + ", ".join(f"{p} {version(p)}" for p in packages))
    print(f"Request: {describe(request)}; body {len(body) / 1000:.1f} kB")
    print(f"Response: {len(fired)} card(s) ({', '.join(fired)}); {len(expected) / 1000:.1f} kB")
    print(f"Runs: {runs} timed requests per path after {warm_up} warm-up, one at a time\n")

    in_process = time_calls(lambda: service.call(chosen, parsed, rule_set, today), runs, warm_up)
    http = asyncio.run(time_http(app, body, expected, runs, warm_up))

    print(f"  {'latency (ms)':<28}{'p50':>8}{'p90':>8}{'p99':>8}{'mean':>8}{'req/s':>10}")
    print(latency_row("service.call (in-process)", in_process))
    print(latency_row("HTTP handler (ASGI)", http))

    by_run, validations, encoded = time_stages(body, chosen, rule_set, today, runs)
    if encoded != expected:
        sys.exit("the stage-by-stage pipeline no longer matches service.call; update by_stage")
    medians = {stage: statistics.median(run[stage] for run in by_run) for stage in by_run[0]}
    total = statistics.median(
        sum(t for stage, t in run.items() if not stage.startswith(" ")) for run in by_run
    )
    title = f"one request by stage (median of {runs})"
    print(f"\n  {title:<50}{'ms':>8}{'share':>8}")
    for stage, median in medians.items():
        print(f"  {stage:<50}{ms(median)}{median / total:8.0%}")
    print(f"  {'all stages (median of the per-request sums)':<50}{ms(total)}")
    print(f"  ({validations:.0f} fhir.validate calls per request)")

    print(f"\n  memory (after warm-up -> after the timed runs); peak RSS {peak_rss_mib():.1f} MiB")
    print(memory_row("service.call (in-process)", in_process))
    print(memory_row("HTTP handler (ASGI)", http))
    rule_set.close()


if __name__ == "__main__":
    main()
