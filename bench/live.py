"""Servers for the benchmarks: started on 127.0.0.1, pinned to a core, measured from ``/proc``.

A process's CPU is read from its CPU-time clock (``clock_getcpuclockid``), in nanoseconds: the
``/proc/<pid>/stat`` times it falls back on count clock ticks of 10 ms, and a row of 300 warm
calls of the bare app (some 200 ms of CPU) read in ticks is off by up to 5 %.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SERVICE = [str(ROOT / ".venv/bin/cds-service"), "serve"]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str

    def cpu_seconds(self) -> float:
        """User and system CPU of the server and every live descendant (the engine's children)."""
        return sum(_own_cpu(pid) for pid in _tree(self.process.pid))

    def rss_mib(self) -> float:
        """Resident memory of the server and every live descendant."""
        return sum(_own_rss(pid) for pid in _tree(self.process.pid)) * PAGE / 2**20


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            pids += _tree(int(child))
    return pids


_LIBC = ctypes.CDLL(None, use_errno=True)


def _own_cpu(pid: int) -> float:
    """Seconds of CPU of the process, its threads that ended included; 0 once it is gone."""
    clock = ctypes.c_int()
    if _LIBC.clock_getcpuclockid(pid, ctypes.byref(clock)) == 0:
        try:
            return time.clock_gettime_ns(clock.value) / 1e9
        except OSError:  # it ended between the two calls
            return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _own_rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except FileNotFoundError:
        return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(name: str, command: list[str], core: int | None = None, **env: str) -> Iterator[Server]:
    """``command`` serving on a free port, with every caller trusted (a benchmark's own server)."""
    port = free_port()
    data = tempfile.TemporaryDirectory(prefix="cds-bench-")  # the store's SQLite file
    env = {
        **os.environ,
        "CDS_AUTH": "off",
        "CDS_DATA_DIR": data.name,
        "PYTHONPATH": str(BENCH),
        **env,
    }
    pinned = ["taskset", "-c", str(core)] if core is not None else []
    argv = [*pinned, *command, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start: {' '.join(argv)}") from None
                time.sleep(0.2)
        yield Server(name, process, f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=30)
        data.cleanup()
