"""What running durable-rules in a supervised engine process costs per call.

The same rule set is loaded twice, once in this process (``CDS_ENGINE_PROCESSES=0``) and once in
a pool of one engine process (the default), and the same facts are evaluated through both:
the facts of ``order_sign.py``'s chart-sized order-sign request, and those of the decipher
patient-view fixture. Rounds alternate between the two so that a neighbour's load on a shared
machine falls on both alike.

Per call it reports the wall time (p50, p99) of the engine step (``RuleSet.evaluate``) and of
the whole ``service.call``, and the CPU time of this process plus the engine process (read from
``/proc/<pid>/schedstat``), so that work moved to the child is not hidden.

Usage: ``python bench/engine_isolation.py [--calls N] [--rounds N]``. Linux only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from time import perf_counter, process_time

sys.path.insert(0, str(Path(__file__).resolve().parent))

from order_sign import build_request

from cds_service import facts, service
from cds_service.engine.admission import admit
from cds_service.engine.supervisor import EnginePool
from cds_service.prefetch import keys
from cds_service.protocol.messages import HookRequest
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import load_rule_set

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 21)


def child_cpu(pids: list[int]) -> float:
    """CPU seconds the engine processes have run so far (``schedstat``: nanoseconds, where
    ``stat``'s utime and stime count 10 ms ticks)."""
    return sum(int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) for pid in pids) / 1e9


def measure(call: Callable[[], object], calls: int, pids: list[int]) -> tuple[list[float], float]:
    """Wall seconds of each call, and CPU seconds per call of this process and the engine."""
    times: list[float] = []
    cpu, child = process_time(), child_cpu(pids)
    for _ in range(calls):
        started = perf_counter()
        call()
        times.append(perf_counter() - started)
    return times, (process_time() - cpu + child_cpu(pids) - child) / calls


def requests() -> dict[str, HookRequest]:
    decipher = (ROOT / "fixtures/fhir/requests/decipher-psa-0p2.patient-view.json").read_bytes()
    return {
        "order-sign, chart-sized": service.parse_request(build_request()),
        "patient-view, decipher": service.parse_request(__import__("orjson").loads(decipher)),
    }


def engine_step(rule_set: RuleSet, request: HookRequest) -> tuple[Callable[[], object], int]:
    chosen = rule_set.service_for(request.hook)
    assert chosen is not None
    context = service.read_context(chosen, request)
    planned = keys.plan(request.prefetch, context, chosen.keys, TODAY)
    found = admit(facts.extract(keys.record(context, planned, {}), rule_set.knowledge, TODAY))
    return (lambda: rule_set.evaluate(chosen.hook, found)), len(found)


def whole_call(rule_set: RuleSet, request: HookRequest) -> Callable[[], object]:
    chosen = rule_set.service_for(request.hook)
    assert chosen is not None
    return lambda: service.call(chosen, request, rule_set, TODAY)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls per round and mode")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pool = EnginePool(1, timeout=10)
    modes = {
        "in-process": (load_rule_set(ROOT / "rules"), lambda: []),
        "engine process": (load_rule_set(ROOT / "rules", pool.rules), pool.pids),
    }
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"{args.rounds} rounds x {args.calls} calls per mode, alternating; times in µs\n")
    print(f"{'request':26} {'step':13} {'mode':15} {'p50':>8} {'p99':>8} {'CPU/call':>8}")
    for name, request in requests().items():
        for step in ("engine", "service.call"):
            results: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modes}
            for _ in range(args.rounds):
                for mode, (rule_set, pids) in modes.items():
                    if step == "engine":
                        call, count = engine_step(rule_set, request)
                    else:
                        call = whole_call(rule_set, request)
                    for _ in range(50):  # warm-up
                        call()
                    times, cpu = measure(call, args.calls, pids())
                    results[mode][0].extend(times)
                    results[mode][1].append(cpu)
            label = f"{name} ({count} facts)" if step == "engine" else name
            for mode, (times, cpus) in results.items():
                quantiles = statistics.quantiles(times, n=100)
                print(
                    f"{label[:26]:26} {step:13} {mode:15} {us(quantiles[49])} {us(quantiles[98])}"
                    f" {us(statistics.median(cpus))}"
                )
    pool.close()


if __name__ == "__main__":
    main()
