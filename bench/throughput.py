"""Calls per second of one ``cds-service serve`` with 1 worker and with 2, loaded by ``wrk``.

On a two-core machine the second worker can at best double what one serves; the load generator
must then cost next to nothing, so the load comes from ``wrk`` (C, one thread, kept-alive
connections), not from Python. Each run starts the service with ``--workers N`` on 127.0.0.1,
warms it up, then loads it for ``--seconds`` with ``--connections`` connections:

- **warm**: the same body at every call (an EHR resending a patient's record);
- **cold**: ``--bodies`` distinct bodies in turn (resource ids and the Patient's version changed
  per body, as ``vs_floor.py`` makes them), more than the service keeps, so none is remembered.

It prints calls per second, p50 and p99 for each, and the ratio of 2 workers to 1; any answer
other than 200 stops the script. The request is ``vs_floor.py``'s (``--request``).

Usage: ``.venv/bin/python bench/throughput.py [--seconds 20] [--connections 8]``. Needs Linux
and ``wrk`` (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from live import SERVICE, server  # noqa: E402
from vs_floor import REQUEST_BUILDERS, Bodies  # noqa: E402

SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("CDS_BODIES")) do bodies[#bodies + 1] = line end
local path, n = os.getenv("CDS_PATH"), 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n % #bodies + 1
  return wrk.format(nil, path, nil, bodies[n])
end
"""


def run_wrk(base: str, path: str, bodies: Path, seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(SCRIPT)
        script.flush()
        options = ["-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
        command = ["wrk", *options, "-s", script.name, base]
        env = {**os.environ, "CDS_BODIES": str(bodies), "CDS_PATH": path}
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"not every call answered 200:\n{out}")
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out)[1]),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out)[1]),
    }


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the service did not become ready in 120 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--bodies", type=int, default=2000, help="distinct bodies, cold")
    parser.add_argument("--request", choices=sorted(REQUEST_BUILDERS), default="dpyd-55")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    bodies = Bodies(REQUEST_BUILDERS[args.request]())
    with tempfile.TemporaryDirectory(prefix="cds-throughput-") as folder:
        files = {"warm": Path(folder, "warm.jsonl"), "cold": Path(folder, "cold.jsonl")}
        files["warm"].write_bytes(bodies.warm + b"\n")
        offset = time.monotonic_ns() % 2**40
        cold = b"\n".join(bodies.cold(offset + n) for n in range(args.bodies))
        files["cold"].write_bytes(cold + b"\n")
        print(
            f"{os.cpu_count()} cores; {args.request}, {args.connections} connections, "
            f"{args.seconds:g} s a run, wrk"
        )
        print(f"{'mode':<6}{'workers':>8}  {'calls/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}")
        rates: dict[str, dict[int, float]] = {"warm": {}, "cold": {}}
        for workers in (1, 2):
            command = [*SERVICE, "--workers", str(workers)]
            with server(f"{workers} workers", command, CDS_RULES_RELOAD_SECONDS="0") as target:
                wait_ready(target.base)
                for mode in ("warm", "cold"):
                    run_wrk(target.base, bodies.path, files[mode], 5, args.connections)
                    got = run_wrk(
                        target.base, bodies.path, files[mode], args.seconds, args.connections
                    )
                    rates[mode][workers] = got["rate"]
                    print(
                        f"{mode:<6}{workers:>8}  {got['rate']:>8.0f}  {got['p50']:>7.2f}  "
                        f"{got['p99']:>7.2f}"
                    )
        for mode, rate in rates.items():
            print(f"{mode}: 2 workers serve {rate[2] / rate[1]:.2f}x the calls of 1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
