"""Mutated fixture requests by the tens of thousands against a running server (issue 12).

The script starts ``cds-service serve`` on 127.0.0.1 (a free port, the fixtures' day), asks it
for the cards of every fixture request as sent, then sends ``--requests`` mutated requests
(``tests/mutations.py``: wrong JSON types, deletions, lone objects, huge arrays, odd unicode),
cycling through the fixtures, over ``--clients`` kept-alive connections. It prints:

- 5xx answers (must be 0);
- answers saying the service failed on the record (``checks-not-run-fault``, must be 0);
- connection resets and other transport errors (must be 0);
- answers slower than 2 s (must be 0);
- metamorphic failures: a card that does not depend on the mutated resource missing from the
  answer (must be 0);
- answers that are not valid CDS Hooks (a 200 whose cards break the spec, a 4xx that is not an
  OperationOutcome; must be 0);

with the status counts and the latency percentiles, and exits non-zero if any must-be-0 is not.
Every mutation is drawn from ``--seed`` and the request's number, so a failure is replayed with
``--only N``.

Usage: ``python bench/fuzz.py [--requests 50000] [--clients 4] [--seed 12] [--only N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cds_service.protocol.messages import CdsResponse  # noqa: E402
from cds_service.ruleset.loader import load_rule_set  # noqa: E402
from tests import mutations  # noqa: E402
from tests.fixture_cases import TODAY  # noqa: E402

SLOW = 2.0
JSON = {"content-type": "application/json"}


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CDS_TODAY": TODAY.isoformat(), "CDS_MAX_BODY_BYTES": str(8 << 20)}
    env["CDS_RULES_RELOAD_SECONDS"] = "0"
    env["CDS_AUTH"] = "off"  # the benchmark's own server on loopback
    env["CDS_DATA_DIR"] = data_dir  # the store, as served by default
    command = [sys.executable, "-m", "cds_service.cli", "--rules", str(ROOT / "rules"), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not start within 60 s")


def _dumps(request: Mapping[str, Any]) -> bytes:
    """The request as JSON; the standard library writes the integers past 64 bits orjson cannot."""
    try:
        return orjson.dumps(request)
    except TypeError:
        return json.dumps(request).encode()


def rule_facts() -> dict[str, frozenset[str]]:
    rule_set = load_rule_set(ROOT / "rules")
    try:
        return {
            rule.id: frozenset(str(spec.get("fact")) for spec in rule.when.values())
            for rule in rule_set.rules.values()
        }
    finally:
        rule_set.close()


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.failures: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.independent = 0
        """Cards compared for the metamorphic property (not depending on the mutation)."""

    def fail(self, kind: str, number: int, what: str) -> None:
        self.failures[kind] += 1
        shown = self.examples.setdefault(kind, [])
        if len(shown) < 5:
            shown.append(f"#{number}: {what[:400]}")


async def one(
    client: httpx.AsyncClient,
    number: int,
    seed: int,
    fixtures: Mapping[str, dict[str, Any]],
    baselines: Mapping[str, list[dict[str, Any]]],
    facts: Mapping[str, frozenset[str]],
    tally: Tally,
) -> None:
    names = sorted(fixtures)
    name = names[number % len(names)]
    rng = random.Random(seed * 1_000_003 + number)
    request, mutation = mutations.mutate(name, fixtures[name], rng)
    path = f"/cds-services/oncology-{fixtures[name]['hook']}"
    body = _dumps(request)
    started = time.monotonic()
    try:
        response = await client.post(
            path, content=body, headers={"content-type": "application/json"}
        )
    except httpx.TransportError as error:
        tally.fail("connection", number, f"{type(error).__name__} {mutation}")
        return
    took = time.monotonic() - started
    tally.latencies.append(took)
    tally.statuses[response.status_code] += 1
    if took > SLOW:
        tally.fail("slow", number, f"{took:.2f} s {mutation}")
    if response.status_code >= 500:
        tally.fail("5xx", number, f"{response.status_code} {mutation}")
        return
    try:
        answer = response.json()
        if response.status_code >= 400:
            if answer.get("resourceType") != "OperationOutcome" or not answer.get("issue"):
                tally.fail("invalid", number, f"{response.status_code} {mutation}")
            return
        cards = [card.wire() for card in CdsResponse.model_validate(answer).cards]
    except (ValueError, AttributeError) as error:  # not JSON, not an object, not CDS Hooks
        tally.fail("invalid", number, f"{type(error).__name__}: {error} {mutation}")
        return
    if mutations.faulted(cards):
        tally.fail("fault", number, f"{mutation}")
    tally.independent += sum(
        mutations.independent(card, mutation, facts) for card in baselines[name]
    )
    lost = mutations.unchanged_cards_missing(baselines[name], cards, mutation, facts)
    if lost:
        tally.fail("metamorphic", number, f"{mutation} lost {lost}")


async def run(base: str, numbers: list[int], clients: int, seed: int) -> Tally:
    fixtures = {name: mutations.load(name) for name in mutations.fixture_names()}
    facts = rule_facts()
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        baselines = {}
        for name, request in fixtures.items():
            response = await client.post(f"/cds-services/oncology-{request['hook']}", json=request)
            assert response.status_code == 200, (name, response.text[:300])
            baselines[name] = response.json()["cards"]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in numbers:
            queue.put_nowait(number)
        started = time.monotonic()

        async def worker() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                await one(client, number, seed, fixtures, baselines, facts, tally)
                done = sum(tally.statuses.values()) + tally.failures["connection"]
                if done % 5000 == 0:
                    rate = done / (time.monotonic() - started)
                    print(f"  {done} requests, {rate:.0f}/s", flush=True)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return tally


def report(tally: Tally, seconds: float) -> int:
    sent = sum(tally.statuses.values()) + tally.failures["connection"]
    by_class = Counter(f"{status // 100}xx" for status in tally.statuses.elements())
    print(f"requests: {sent} in {seconds:.0f} s ({sent / seconds:.0f}/s)")
    print("statuses:", dict(sorted(tally.statuses.items())), dict(sorted(by_class.items())))
    if tally.latencies:
        cuts = statistics.quantiles(tally.latencies, n=1000)
        print(
            f"latency: p50 {cuts[499] * 1000:.0f} ms, p99 {cuts[989] * 1000:.0f} ms, "
            f"p99.9 {cuts[998] * 1000:.0f} ms, max {max(tally.latencies) * 1000:.0f} ms"
        )
    names = {
        "5xx": "5xx answers",
        "fault": "answers saying the service failed on the record",
        "connection": "connection resets / transport errors",
        "slow": f"answers over {SLOW:.0f} s",
        "metamorphic": "metamorphic failures",
        "invalid": "answers that are not valid CDS Hooks",
    }
    for kind, label in names.items():
        if kind == "metamorphic":
            label += f" (of {tally.independent} independent cards compared)"
        print(f"{label}: {tally.failures[kind]}")
        for example in tally.examples.get(kind, ()):
            print(f"    {example}")
    return 1 if any(tally.failures[kind] for kind in names) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--only", type=int, help="replay one request by its number")
    options = parser.parse_args()
    numbers = [options.only] if options.only is not None else list(range(options.requests))
    with tempfile.TemporaryDirectory(prefix="cds-fuzz-") as data_dir:
        process, base = start_server(data_dir)
        try:
            started = time.monotonic()
            tally = asyncio.run(run(base, numbers, options.clients, options.seed))
            seconds = time.monotonic() - started
            alive = process.poll() is None
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"server process alive at the end: {alive}")
    return report(tally, seconds) or (0 if alive else 1)


if __name__ == "__main__":
    raise SystemExit(main())
