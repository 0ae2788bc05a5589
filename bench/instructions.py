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

With ``--floor`` each request is also counted through ``floor_app.py`` (the bare FastAPI app of
``vs_floor.py``) and through a bare ASGI app that takes the body and answers the floor's card
without parsing it: the client, the transport and the least an app can do. Taking that from
both, the ratio is of the service's own work to the floor's own, which no drift moves. It is
stricter than ``vs_floor.py``'s ratio of CPU, where the HTTP server (uvicorn, h11, the access
log), the same for both, is in both figures.

valgrind's virtual CPU has no SHA extensions, so OpenSSL hashes in software under it: the
record's digest (``prefetch/reading.content_of``, SHA-256 of everything sent) counts 28
instructions a byte, where this machine's CPU hashes 1.7 GB a second. Counted in, it would be
26 % of a warm ``breast-order`` call (75 kB digested: 2.1 M instructions, against some 45 µs of
a 1.5 ms call) and 13 % of ``dpyd-1000``. So OpenSSL's instructions (callgrind's profile of
each function, by library) are left out of every figure and printed apart.

Usage: ``.venv/bin/python bench/instructions.py [--calls N] [--only NAME ...] [--against PATH]
[--floor]``; a name ending ``:warm`` counts the warm body. Needs valgrind (Debian's
``valgrind``). Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT = ("dpyd-55", "breast-order", "breast-view", "dpyd-1000", "breast-order:warm")
_COLLECTED = re.compile(r"Collected : (\d+)")
_OPENSSL = re.compile(r"^\s*([\d,]+) .*\[[^\]]*libcrypto[^\]]*\]$", re.MULTILINE)


APPS = ("service", "floor", "client")
"""What a count goes through: the service, the bare FastAPI app, or no app but the client's."""


@dataclass(frozen=True)
class Count:
    """Millions of instructions per call, and of them OpenSSL's (SHA-256 under valgrind)."""

    total: float
    openssl: float

    @property
    def native(self) -> float:
        """Less OpenSSL's: on this machine's CPU, its SHA extensions hash 1.7 GB a second,
        where valgrind counts 28 instructions a byte, so the rest is the truer figure."""
        return self.total - self.openssl


def count(name: str, calls: int, root: Path, app: str = "service") -> Count:
    """Instructions per call of ``name`` through ``app`` (the service in ``root``)."""
    with tempfile.TemporaryDirectory(prefix="cds-instructions-") as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(BENCH / "instructions.py"),
            "--inner",
            name,
            "--calls",
            str(calls),
            "--app",
            app,
        ]
        env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{BENCH}", "CDS_TODAY": "2026-11-21"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        found = _COLLECTED.search(done.stderr)
        if done.returncode != 0 or found is None:
            raise SystemExit(f"{name} in {root} failed:\n{done.stderr[-2000:]}")
        openssl = _openssl(out)
    return Count(int(found.group(1)) / calls / 1e6, openssl / calls / 1e6)


def _openssl(out: Path) -> int:
    """Instructions counted in OpenSSL's library, from callgrind's profile of every function."""
    listed = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(int(m.group(1).replace(",", "")) for m in _OPENSSL.finditer(listed))


def counted_calls(name: str, calls: int, kind: str) -> None:
    """Inside valgrind: warm up uncounted, then ``calls`` calls counted."""
    import httpx
    import vs_floor

    request, warm = name.removesuffix(":warm"), name.endswith(":warm")
    bodies = vs_floor.Bodies(vs_floor.REQUEST_BUILDERS[request]())
    sent = [bodies.warm if warm else bodies.cold(n) for n in range(calls + 5)]
    app, settle = _app(kind)
    callgrind = ["callgrind_control", "--instr"]

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {"content-type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for body in sent[:5]:
                (await client.post(bodies.path, content=body, headers=headers)).raise_for_status()
            settle()
            subprocess.run([*callgrind, "on", str(os.getpid())], check=True, capture_output=True)
            for body in sent[5:]:
                await client.post(bodies.path, content=body, headers=headers)
            subprocess.run([*callgrind, "off", str(os.getpid())], check=True, capture_output=True)

    asyncio.run(run())


def _app(kind: str) -> tuple[Callable[..., Awaitable[None]], Callable[[], None]]:
    """The app a count goes through, and what to do once warmed up, as its server would."""
    if kind == "floor":
        import floor_app

        return floor_app.app, gc.collect  # the floor's server does not freeze its heap
    if kind == "client":
        import floor_app

        async def client_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
            while (await receive()).get("more_body"):
                pass
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": floor_app.CARD})

        return client_only, gc.collect

    import cds_service
    from cds_service.app import create_app
    from cds_service.config import Settings
    from cds_service.heap import settle_heap

    wanted = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0])
    if Path(cds_service.__file__).parents[1] != wanted:  # never count another checkout unseen
        raise SystemExit(f"imported {cds_service.__file__}, not the service in {wanted}")
    settings = replace(Settings.from_env(), auth="off", engine_processes=0, database_url="")
    return create_app(settings), settle_heap  # as the server does once it has started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=list(DEFAULT))
    parser.add_argument("--against", type=Path, help="another checkout, counted beside this one")
    parser.add_argument("--floor", action="store_true", help="count the bare app too, and compare")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    parser.add_argument("--app", choices=APPS, default="service", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.inner:
        counted_calls(arguments.inner, arguments.calls, arguments.app)
        return 0
    print(
        f"Python {sys.version.split()[0]}; millions of instructions per call (callgrind), "
        "less OpenSSL's, which is given apart"
    )
    roots = [ROOT, *([arguments.against.resolve()] if arguments.against else [])]
    header = "".join(f"{str(root)[-24:]:>26}" for root in roots)
    floor = f"{'floor':>8}{'client':>8}{'own work':>10}" if arguments.floor else ""
    print(f"{'request':20}{header}{'openssl':>9}{floor}")
    counted: dict[str, tuple[float, float]] = {}  # the service's and the floor's, less OpenSSL
    for name in arguments.only:
        figures = [count(name, arguments.calls, root) for root in roots]
        line = f"{name:20}" + "".join(f"{figure.native:26.2f}" for figure in figures)
        line += f"{figures[0].openssl:9.2f}"
        if arguments.floor:
            bare, client = (count(name, arguments.calls, ROOT, app).native for app in APPS[1:])
            counted[name] = (figures[0].native, bare)
            own = (figures[0].native - client) / (bare - client)  # the client's is in neither
            line += f"{bare:8.2f}{client:8.2f}{own:9.1f}x"
        if len(figures) == 2:
            line += f"  {figures[0].native / figures[1].native - 1:+.1%} against the other"
        print(line)
    if {"dpyd-55", "dpyd-1000"} <= counted.keys():
        (small, small_bare), (large, large_bare) = counted["dpyd-55"], counted["dpyd-1000"]
        added = _resources("dpyd-1000") - _resources("dpyd-55")
        ours, theirs = (large - small) / added * 1e3, (large_bare - small_bare) / added * 1e3
        print(
            f"per added resource: {ours:.1f} k against the floor's {theirs:.1f} k instructions"
            f" ({ours / theirs:.1f}x)"
        )
    return 0


def _resources(name: str) -> int:
    import vs_floor

    return vs_floor.count_resources(vs_floor.REQUEST_BUILDERS[name]())


if __name__ == "__main__":
    sys.exit(main())
