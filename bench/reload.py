"""How long a hot reload of the whole rule set takes, and what memory it costs.

A reload is what an informaticist waits for after saving a rule file, and what the service pays
while it serves: the check in a child process (``cds-service rules test``: parse, validate,
compile, run every example), then the load and compile in the service, then the swap. This
script measures, on a copy of the bundled ``rules/``:

1. ``load_rule_set`` in-process: parse, schema and semantic checks, durable-rules compile.
2. The examples of every rule file, in-process.
3. A whole reload as the running service does it (``reload.reload``): child process included.
4. RSS: after the first load, while two rule sets are live (the moment of a swap with requests
   in flight), and after many reloads, to show that a retired set is freed.

Usage: ``python bench/reload.py [--reloads N]``. Linux only: RSS is read from ``/proc``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from order_sign import rss_mib  # bench/ is on the path when this script runs

from cds_service.offline.examples import run_examples
from cds_service.ruleset.loader import load_rule_set
from cds_service.ruleset.reload import LiveRules, reload

ROOT = Path(__file__).resolve().parent.parent


def timed(action: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def say(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    print(f"{name:<44} median {p50:8.1f} ms   min {ms[0]:8.1f}   max {ms[-1]:8.1f}   (n={len(ms)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=20, help="whole reloads to time")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cds-reload-bench-"))
    try:
        shutil.copytree(ROOT / "rules", work / "rules")
        shutil.copytree(ROOT / "fixtures", work / "fixtures")
        rules = work / "rules"
        before = rss_mib()
        first = load_rule_set(rules)
        after_first = rss_mib()
        print(
            f"python {sys.version.split()[0]}; rule set {first.version}: "
            f"{len(first.files)} rule files, {len(first.rules)} rules"
        )
        say("load_rule_set (check + compile)", timed(lambda: load_rule_set(rules).close(), 20))
        say("run_examples (every example)", timed(lambda: run_examples(first), 5))

        second = load_rule_set(rules)
        two_live = rss_mib()
        second.close()

        live = LiveRules(first)
        rule_file = rules / "pgx" / "dpyd-fluoropyrimidines.yaml"
        text = rule_file.read_text(encoding="utf-8")
        seconds = []
        outcomes = set()
        for number in range(args.reloads):
            rule_file.write_text(text + f"\n# edit {number}\n", encoding="utf-8")
            started = time.perf_counter()
            report = asyncio.run(reload(live, rules, timeout=120))
            seconds.append(time.perf_counter() - started)
            outcomes.add(report.outcome)
        say("whole reload (child check + load + swap)", seconds)
        after_reloads = rss_mib()
        live.close()

        print(f"reload outcomes: {', '.join(sorted(outcomes))}")
        print(f"RSS before loading            {before:8.1f} MiB")
        print(
            f"RSS with one rule set         {after_first:8.1f} MiB  (+{after_first - before:.1f})"
        )
        print(
            f"RSS with two live (a swap)    {two_live:8.1f} MiB  "
            f"(+{two_live - after_first:.1f} for the second)"
        )
        print(
            f"RSS after {args.reloads} reloads          {after_reloads:8.1f} MiB  "
            f"({after_reloads - after_first:+.1f} since the first load)"
        )
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
