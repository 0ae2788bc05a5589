"""Memory over a long run: many calls and many hot reloads, RSS printed along the way.

A service that an EHR calls all day must not grow. durable-rules is known to keep memory per
rule set it has compiled (``bench/reload.py`` measures one reload), so this runs both at once:
``--calls`` service calls (default 1,000,000) and ``--reloads`` hot reloads (default 100)
spread evenly over them, against ``cds-service serve`` on a copy of the bundled rules with the
reload watcher on. Each reload appends a comment to one rule file, which changes the rule-set
version; the script waits until ``/health`` serves the new version.

The calls cycle through every request fixture that answers 200 without a FHIR server, from a
few kept-alive connections. At every tenth of the run it prints calls done, reloads done,
calls per second and the RSS of the server's process tree (engine children included). The
last line compares the end with the first checkpoint: the goal is within 5 %.

Usage: ``.venv/bin/python bench/soak.py [--calls N] [--reloads N] [--concurrency N]``.
A full run takes hours on two cores; ``--calls 50000 --reloads 100`` shows the trend.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live import ROOT, SERVICE, Server, server

REQUESTS = ROOT / "fixtures/fhir/requests"
PATHS = {
    "order-select": "/cds-services/oncology-order-select",
    "order-sign": "/cds-services/oncology-order-sign",
    "patient-view": "/cds-services/oncology-patient-view",
}
HEADERS = {"content-type": "application/json"}
RELOAD_SECONDS = 600
"""The reload check's time limit: on a busy shared machine the check's child process took over
60 s (the service's default), the reload timed out and the run stopped at the next deadline."""


def bodies(client: httpx.Client) -> list[tuple[str, bytes]]:
    """Every fixture request the service answers with 200 on its own (no FHIR server needed)."""
    found = []
    for path in sorted(REQUESTS.glob("*.json")):
        hook = path.name.rsplit(".", 2)[-2]
        body = path.read_bytes()
        if hook in PATHS and client.post(PATHS[hook], content=body, headers=HEADERS).is_success:
            found.append((PATHS[hook], body))
    return found


def reload(target: Server, rules: Path, number: int) -> None:
    """Edit one rule file and wait until the service serves the new version."""
    before = httpx.get(f"{target.base}/health").json()["ruleSetVersion"]
    rule_file = next(iter(sorted(rules.rglob("*.yaml"))))
    with rule_file.open("a", encoding="utf-8") as written:
        written.write(f"# soak reload {number}\n")
    deadline = time.monotonic() + RELOAD_SECONDS + 60
    while httpx.get(f"{target.base}/health").json()["ruleSetVersion"] == before:
        if time.monotonic() > deadline:
            raise SystemExit(f"reload {number} was not served within {RELOAD_SECONDS + 60} s")
        time.sleep(0.2)


async def call(target: Server, work: list[tuple[str, bytes]], count: int, width: int) -> None:
    limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
    numbers = iter(range(count))
    async with httpx.AsyncClient(base_url=target.base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for n in numbers:
                path, body = work[n % len(work)]
                response = await client.post(path, content=body, headers=HEADERS)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")

        await asyncio.gather(*(worker() for _ in range(width)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--reloads", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rules = Path(scratch) / "rules"
        shutil.copytree(ROOT / "rules", rules)
        (Path(scratch) / "fixtures").symlink_to(ROOT / "fixtures")  # the examples' bundles
        settings = {
            "CDS_RULES_DIR": str(rules),
            "CDS_RULES_RELOAD_SECONDS": "0.5",
            "CDS_RULES_RELOAD_TIMEOUT": str(RELOAD_SECONDS),
        }
        with server("service", SERVICE, **settings) as target:
            with httpx.Client(base_url=target.base, timeout=60) as client:
                work = bodies(client)
            print(f"{len(work)} request fixtures, {args.concurrency} connections")
            print(f"{'calls':>10} {'reloads':>8} {'calls/s':>8} {'RSS MiB':>8}")
            segments = max(args.reloads, 1)
            share = args.calls // segments
            checkpoint = max(segments // 10, 1)
            done, first, started = 0, 0.0, time.monotonic()
            for segment in range(1, segments + 1):
                asyncio.run(call(target, work, share, args.concurrency))
                done += share
                if segment <= args.reloads:
                    reload(target, rules, segment)
                if segment % checkpoint == 0 or segment == segments:
                    rate = done / (time.monotonic() - started)
                    rss = target.rss_mib()
                    first = first or rss
                    print(f"{done:>10} {min(segment, args.reloads):>8} {rate:>8.0f} {rss:>8.1f}")
            growth = 100 * (rss - first) / first
            print(f"RSS at the end {rss:.1f} MiB, {growth:+.1f} % since the first checkpoint")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
