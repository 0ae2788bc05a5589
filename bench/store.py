"""What the store costs: a call's latency with and without recording, and the report's time.

1. **Recording.** The same order-sign call (``dpyd-c1905-het-capecitabine``, one card) through
   the ASGI app in-process, one at a time: store off, SQLite in a temporary folder, PostgreSQL
   (a database of its own on the given server, dropped afterwards). The call's p50/p99, and the
   p50/p99 of ``Store.record`` alone, the only store work on the request path.
2. **The report** over a generated history (by default 1,000,000 served cards and 300,000
   feedback items: 40 rules, 2 rule-set versions, 200,000 patients) in SQLite and PostgreSQL.

Usage, from the repository root: ``.venv/bin/python bench/store.py [--requests N]
[--history-cards N] [--history-feedback N] [--postgres URL|off]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cds_service.app import create_app  # noqa: E402
from cds_service.config import Settings  # noqa: E402
from cds_service.protocol.messages import CdsResponse  # noqa: E402
from cds_service.store.db import connect, feedback, migrate, served_card  # noqa: E402
from cds_service.store.recorder import Served  # noqa: E402
from cds_service.store.report import build  # noqa: E402
from tests.conftest import RULES, request_fixture  # noqa: E402
from tests.fixture_cases import TODAY  # noqa: E402

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"
KEY = "bench key, not a secret of any deployment"


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[98]


def call_latencies(urls: dict[str, str], runs: int, warm_up: int, data_dir: Path) -> dict:
    """p50/p99 of the call (ms) per store, the calls interleaved (A, B, C, A, B, C, ...) so
    that the machine's load falls on every store alike; and p50/p99 of ``Store.record`` (µs)."""
    apps = {name: _app(url, data_dir) for name, url in urls.items()}
    loop = asyncio.new_event_loop()
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        for name, app in apps.items()
    }
    body = request_fixture(NAME)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    rng = random.Random(9)  # each round in a new order: no store always follows another
    for run in range(warm_up + runs):
        body["hookInstance"] = f"bench-{run}"
        for name in rng.sample(list(clients), len(clients)):
            client = clients[name]
            start = time.perf_counter()
            response = loop.run_until_complete(client.post(PATH, json=body))
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or len(response.json()["cards"]) != 1:
                sys.exit(f"the call failed: {response.status_code} {response.text[:300]}")
            if run >= warm_up:
                samples[name].append(elapsed * 1000)
    cards = CdsResponse.model_validate(response.json()).cards
    results: dict[str, dict[str, Any]] = {}
    for name, app in apps.items():
        results[name] = {"call_ms": percentiles(samples[name])}
        store = app.state.store
        if store is None:
            continue
        served = Served("s", "order-sign", "h", "p", "e", "v", cards, datetime.now(UTC))
        results[name]["record_us"] = percentiles(timed(lambda s=store, c=served: s.record(c), runs))
        store.recorder.flush(60)
        results[name] |= {
            "recorded": store.recorder.recorded,
            "lost": store.recorder.lost,
            "writer_us_per_card": store.recorder.busy / max(1, store.recorder.recorded) * 1e6,
        }
        store.close()
    for client in clients.values():
        loop.run_until_complete(client.aclose())
    loop.close()
    return results


def _app(url: str, data_dir: Path) -> Any:
    app = create_app(
        Settings(
            rules_dir=RULES,
            today=TODAY,
            database_url=url,
            data_dir=data_dir,
            patient_hash_key=KEY,
            reload_seconds=0,
        )
    )
    if app.state.store is not None and not app.state.store.recorder.ready.wait(60):
        sys.exit(f"the store at {url} did not become ready")
    return app


def timed(step: Callable[[], None], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def generate(url: str, cards: int, items: int) -> float:
    """Fill an empty store with a synthetic history; seconds it took."""
    engine = connect(url)
    migrate(engine)
    rng = random.Random(16)
    start = time.perf_counter()
    rules = [f"rule-{n:02d}" for n in range(40)]
    begin = datetime(2026, 1, 1, tzinfo=UTC)
    uuids = []
    with engine.begin() as connection:
        for chunk in range(0, cards, 20_000):
            rows = []
            for n in range(chunk, min(cards, chunk + 20_000)):
                card = f"card-{n // 2:08d}"  # each card shown twice: order-select, then sign
                uuids.append(card)
                rows.append(
                    {
                        "card_uuid": card,
                        "service": "oncology-order-sign",
                        "hook": "order-sign",
                        "rule_id": rules[(n // 2) % 40],
                        "rule_set_version": "v1" if n < cards // 2 else "v2",
                        "indicator": "warning",
                        "suggestion_uuids": f"s-{n // 2}",
                        "suggestion_labels": json.dumps(["Reduce the dose"]),
                        "patient_hash": f"{rng.randrange(200_000):064x}",
                        "encounter_hash": None,
                        "hook_instance": f"h-{n}",
                        "served_at": begin + timedelta(seconds=n * 25),
                    }
                )
            connection.execute(served_card.insert(), rows)
        answered = rng.sample(sorted(set(uuids)), min(items, len(set(uuids))))
        reasons = ["tolerated-before", "tdm-guided", "result-disputed", "dose-already-adjusted"]
        for chunk in range(0, len(answered), 20_000):
            rows = []
            for n, card in enumerate(answered[chunk : chunk + 20_000], chunk):
                over = rng.random() < 0.2 + 0.6 * (int(card[5:]) % 40) / 40
                rows.append(
                    {
                        "card_uuid": card if n % 100 else f"unknown-{n}",
                        "service": "oncology-order-sign",
                        "outcome": "overridden" if over else "accepted",
                        "accepted_suggestions": "" if over else f"s-{int(card[5:])}",
                        "override_system": "urn:oncology-pgx-cds:override-reason" if over else None,
                        "override_code": rng.choice(reasons) if over else None,
                        "override_display": "a reason" if over else None,
                        "user_comment": None,
                        "outcome_at": begin + timedelta(seconds=n * 80),
                        "received_at": begin + timedelta(seconds=n * 80 + 1),
                    }
                )
            connection.execute(feedback.insert(), rows)
    engine.dispose()
    return time.perf_counter() - start


def report_time(url: str) -> dict[str, float]:
    engine = connect(url)
    timings = {}
    for label, kwargs in (
        ("all rules", {}),
        ("one rule", {"rule": "rule-07"}),
        (
            "one month",
            {"since": datetime(2026, 3, 1, tzinfo=UTC), "until": datetime(2026, 4, 1, tzinfo=UTC)},
        ),
    ):
        start = time.perf_counter()
        report = build(engine, **kwargs)
        timings[label] = time.perf_counter() - start
        timings[f"{label} rows"] = len(report.rules)
    engine.dispose()
    return timings


def postgres_database(server: str, name: str, create: bool) -> str:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if create:
            admin.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--history-cards", type=int, default=1_000_000)
    parser.add_argument("--history-feedback", type=int, default=300_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        backends = {"sqlite": f"sqlite:///{folder}/bench.sqlite3"}
        if args.postgres != "off":
            backends["postgresql"] = postgres_database(args.postgres, "cds_store_bench", True)
        try:
            print(f"{args.requests} calls per store after {args.warm_up} warm-up, interleaved")
            print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            results = call_latencies(
                {"off": "", **backends}, args.requests, args.warm_up, Path(folder)
            )
            for name, result in results.items():
                p50, p99 = result["call_ms"]
                line = f"  store {name:10s} call p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                if "record_us" in result:
                    r50, r99 = result["record_us"]
                    line += f"  record() p50 {r50:5.1f} µs  p99 {r99:5.1f} µs"
                    line += f"  writer CPU {result['writer_us_per_card']:.0f} µs/card"
                    line += f"  ({result['recorded']} recorded, {result['lost']} lost)"
                print(line)
            for name, url in backends.items():
                url = url.replace("bench.sqlite3", "history.sqlite3")
                if name == "postgresql":
                    url = postgres_database(args.postgres, "cds_store_bench_history", True)
                took = generate(url, args.history_cards, args.history_feedback)
                print(
                    f"  {name}: {args.history_cards} cards, {args.history_feedback} feedback "
                    f"items written in {took:.0f} s"
                )
                for label, value in report_time(url).items():
                    if not label.endswith("rows"):
                        print(f"    report, {label}: {value:.2f} s")
        finally:
            if args.postgres != "off":
                for name in ("cds_store_bench", "cds_store_bench_history"):
                    postgres_database(args.postgres, name, False)


if __name__ == "__main__":
    main()
