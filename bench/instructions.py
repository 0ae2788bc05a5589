"""Instructions per call, counted by valgrind's callgrind: a figure a busy machine does not move.

CPU time per call (``vs_floor.py``) is the headline, but on a shared two-core virtual machine it
moved by 60 % within a quarter of an hour on unchanged code (20.7 to 33.7 ms for ``dpyd-1000``).
An instruction count is the same from run to run to within one percent, so it tells whether
a change to the code made a call cheaper, by how much, and which change did.

Each request runs in a process of its own under ``valgrind --tool=callgrind``, with counting
off while Python starts, the rule set loads and five calls warm up; then ``--calls`` calls go
through the whole app in-process (``httpx.ASGITransport``: routing, the JSON, the pipeline, the
engine in-process), counted. The same client code is counted for every version, so the figures
compare versions of the service; they are not the service's cost alone.

The requests and their cold and warm bodies are ``vs_floor.py``'s. With ``--against PATH`` (a
checkout of another version, e.g. a ``git worktree``) each request is counted in both, side by
side, the project's dependencies being this checkout's.

Usage: ``.venv/bin/python bench/instructions.py [--calls N] [--only NAME ...] [--against PATH]``;
a name ending ``:warm`` counts the warm body. Needs valgrind (Debian's ``valgrind``). Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT = ("dpyd-55", "breast-order", "breast-view", "dpyd-1000", "breast-order:warm")
_COLLECTED = re.compile(r"Collected : (\d+)")


def count(name: str, calls: int, root: Path) -> float:
    """Millions of instructions per call of ``name`` through the service in ``root``."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(BENCH / "instructions.py"),
        "--inner",
        name,
        "--calls",
        str(calls),
    ]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{BENCH}", "CDS_TODAY": "2026-11-21"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{name} in {root} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1)) / calls / 1e6


def counted_calls(name: str, calls: int) -> None:
    """Inside valgrind: warm up uncounted, then ``calls`` calls counted."""
    import httpx
    import vs_floor

    import cds_service
    from cds_service.app import create_app
    from cds_service.config import Settings
    from cds_service.heap import settle_heap

    wanted = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0])
    if Path(cds_service.__file__).parents[1] != wanted:  # never count another checkout unseen
        raise SystemExit(f"imported {cds_service.__file__}, not the service in {wanted}")
    request, warm = name.removesuffix(":warm"), name.endswith(":warm")
    bodies = vs_floor.Bodies(vs_floor.REQUEST_BUILDERS[request]())
    sent = [bodies.warm if warm else bodies.cold(n) for n in range(calls + 5)]
    settings = replace(Settings.from_env(), auth="off", engine_processes=0, database_url="")
    app = create_app(settings)
    callgrind = ["callgrind_control", "--instr"]

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {"content-type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for body in sent[:5]:
                (await client.post(bodies.path, content=body, headers=headers)).raise_for_status()
            settle_heap()  # as the server does once it has started
            subprocess.run([*callgrind, "on", str(os.getpid())], check=True, capture_output=True)
            for body in sent[5:]:
                await client.post(bodies.path, content=body, headers=headers)
            subprocess.run([*callgrind, "off", str(os.getpid())], check=True, capture_output=True)

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=list(DEFAULT))
    parser.add_argument("--against", type=Path, help="another checkout, counted beside this one")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.inner:
        counted_calls(arguments.inner, arguments.calls)
        return 0
    print(f"Python {sys.version.split()[0]}; millions of instructions per call, callgrind")
    roots = [ROOT, *([arguments.against.resolve()] if arguments.against else [])]
    print(f"{'request':20}" + "".join(f"{str(root)[-24:]:>26}" for root in roots))
    for name in arguments.only:
        figures = [count(name, arguments.calls, root) for root in roots]
        change = f"  {figures[0] / figures[1] - 1:+.1%}" if len(figures) == 2 else ""
        print(f"{name:20}" + "".join(f"{figure:26.2f}" for figure in figures) + change)
    return 0


if __name__ == "__main__":
    sys.exit(main())
