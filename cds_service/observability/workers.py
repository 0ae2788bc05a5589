"""``cds-service serve``: one process, or a small supervisor over N worker processes.

Each worker loads its own rule set (so hot reload stays whole per worker), then opens its own
listening socket on the shared port with ``SO_REUSEPORT``. The kernel then deals each new
connection to one of the workers' sockets by a hash of its addresses, so even one client's
small pool of kept-alive connections spreads over the workers; with one shared socket
(uvicorn's ``--workers``) the first worker to wake accepts them all and the others stay idle.
A worker binds only once its rule set is loaded, so no call waits on a worker still starting.

SIGTERM (or Ctrl-C) stops each worker the way uvicorn does: it stops accepting, finishes the
calls in flight, then exits; the supervisor waits for all of them. A worker that dies on its
own is started again. Metrics are summed over the workers through one temporary folder in
``PROMETHEUS_MULTIPROC_DIR``, made for the run and removed after it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from typing import Any

from . import logformat
from .metrics import MULTIPROCESS_DIR

log = logging.getLogger("cds_service.serve")

AppFactory = Callable[[], Any]
"""A picklable callable that builds the ASGI app, such as ``partial(create_app, settings)``."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    log_level: str
    log_format: str
    graceful_seconds: float | None
    """The longest a stopping worker waits for calls in flight; None: as long as they take."""


def serve(factory: AppFactory, listen: Listen, workers: int) -> int:
    """Run the app until SIGTERM or Ctrl-C; in this process when ``workers`` is 1."""
    logformat.configure(listen.log_format, listen.log_level)
    if workers <= 1:
        _run(factory(), listen, _bind(listen.host, listen.port, reuse_port=False))
        return 0
    return _supervise(factory, listen, workers)


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by each connection
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _run(app: Any, listen: Listen, sock: socket.socket) -> None:
    import uvicorn

    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    log.info("serving on http://%s:%d (pid %d)", host, port, os.getpid())
    config = uvicorn.Config(
        app,
        # h11, never httptools, which uvicorn would take if installed: h11 answered a 2 MB
        # header with a 400, where httptools read a 20 MB one into memory (bench/README.md)
        http="h11",
        log_config=None,  # logformat.configure routed uvicorn's loggers already
        log_level=listen.log_level,
        access_log=False,  # the call's own line (observability.calls) replaces it
        timeout_graceful_shutdown=listen.graceful_seconds,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _worker(factory: AppFactory, listen: Listen, bound: Any) -> None:
    """One worker process: build the app, then join the shared port and serve."""
    logformat.configure(listen.log_format, listen.log_level)
    app = factory()
    sock = _bind(listen.host, listen.port, reuse_port=True)
    bound.release()
    _run(app, listen, sock)


def _supervise(factory: AppFactory, listen: Listen, workers: int) -> int:
    metrics_dir = tempfile.mkdtemp(prefix="cds-metrics-")
    os.environ[MULTIPROCESS_DIR] = metrics_dir  # read by prometheus-client as workers import it
    context = multiprocessing.get_context("spawn")
    # Holding the port (bound, not listening: it takes no connections) makes port 0 one
    # port for every worker, and keeps it ours while they start.
    holder = _bind(listen.host, listen.port, reuse_port=True)
    listen = replace(listen, port=holder.getsockname()[1])
    stopping = False

    def stop(signum: int, _: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in running:
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    def start(count: int) -> None:
        """``count`` more workers, started side by side; returns once each has bound the port."""
        bound = context.Semaphore(0)
        started = [
            context.Process(target=_worker, args=(factory, listen, bound)) for _ in range(count)
        ]
        for process in started:
            process.start()
            running.append(process)
        for _ in started:
            while not bound.acquire(timeout=0.5):
                if stopping:  # SIGTERM while starting: the workers were told to stop
                    return
                if dead := [p for p in started if not p.is_alive()]:
                    raise SystemExit(f"a worker exited with {dead[0].exitcode} before serving")

    running: list[BaseProcess] = []
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        start(workers)
        holder.close()
        if not stopping:
            log.info("serving on http://%s:%d with %d workers", listen.host, listen.port, workers)
        while running:
            time.sleep(0.2)
            for process in [p for p in running if not p.is_alive()]:
                running.remove(process)
                _forget(process)
                if not stopping:
                    log.error(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    start(1)
    finally:
        holder.close()
        stop(signal.SIGTERM, None)
        for process in running:
            process.join()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _forget(process: BaseProcess) -> None:
    """A dead worker's live gauges leave the sums (its counters stay: they were counted)."""
    from prometheus_client import multiprocess

    if process.pid is not None:
        multiprocess.mark_process_dead(process.pid)
