"""Supervised engine processes: a crash or a hang in durable-rules' C code costs one call.

durable-rules is C code with known memory-safety defects; in the server's own process one bad
input ends every call in flight. :class:`EnginePool` keeps a few ``worker`` processes, each with
one request in flight at a time, which the calling thread writes and reads itself (a length and
a pickle over a socket pair: no reader thread, no event loop hop). A worker that dies, or does
not answer within the timeout, is killed; that call raises :class:`EngineUnavailable` (the
service answers 503 with ``Retry-After``: the checks could not run), a new worker is started at
once and warms up with the live rule sets, and the next call gets its cards.

Rule sets are registered with the pool, not with one worker: :meth:`EnginePool.rules` compiles a
set in one worker (so a set the engine refuses is refused at load, with the rule named) and the
others load it on first use; a restarted worker loads every live set; a closed set is dropped
from each worker the next time it is used. Hot reload therefore works unchanged: the new set is
registered, the old one closed when its last call ends.
"""

from __future__ import annotations

import itertools
import logging
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from .durable import Conditions, EngineBusy, EngineError, Match, prepare
from .encoding import FactSchema, Scalar
from .worker import receive, send

log = logging.getLogger("cds_service.engine")


class EngineUnavailable(Exception):
    """The engine process crashed or hung during this call; the checks did not run."""


class _Worker:
    """One engine process and the supervisor's end of its socket."""

    def __init__(self, timeout: float):
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "cds_service.engine.worker", str(theirs.fileno())]
        self.process = subprocess.Popen(
            command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL
        )
        theirs.close()
        ours.settimeout(timeout)
        self.channel = ours
        self.reader = ours.makefile("rb")
        self.loaded: set[int] = set()
        self.pending = 0
        """Replies to loads and drops sent ahead, read before the next request's reply."""

    def post(self, op: str, key: int, payload: Any = None) -> None:
        """Send a request whose reply is read later (loads and drops need no one to wait)."""
        send(self.channel, (op, key, payload))
        self.pending += 1

    def ask(self, op: str, key: int, payload: Any = None) -> Any:
        send(self.channel, (op, key, payload))
        while self.pending:
            ok, value = receive(self.reader)
            self.pending -= 1
            if not ok:  # a set that compiled once does not fail to compile again
                raise EOFError(f"the engine process refused a rule set it had taken: {value}")
        ok, value = receive(self.reader)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        with suppress(OSError):
            self.reader.close()
            self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


class EnginePool:
    """``size`` engine processes, started on first use; thread-safe."""

    def __init__(self, size: int, timeout: float):
        if size < 1:
            raise ValueError("an engine pool needs at least one process")
        self._timeout, self._size = timeout, size
        self._keys = itertools.count()
        self._specs: dict[int, tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        self._workers: set[_Worker] = set()
        self.restarts = 0
        """Workers replaced after a crash or a hang since the pool started."""
        for _ in range(size):
            self._idle.put(None)  # a slot whose process starts when it is first needed

    def rules(
        self,
        rules: Mapping[str, Conditions],
        schema: FactSchema,
        absent: Mapping[str, Conditions] | None = None,
    ) -> IsolatedRules:
        """Register a rule set, compiled once now so that a refused set fails here."""
        key = next(self._keys)
        spec = (dict(rules), {k: dict(v) for k, v in schema.items()}, dict(absent or {}))
        self._run(key, "load", spec, busy_timeout=self._timeout)
        with self._lock:  # live from now on: restarted workers load it, the others when used
            self._specs[key] = spec
        return IsolatedRules(self, key, spec[1])

    def evaluate(self, key: int, prepared: list[bytes], timeout: float) -> Any:
        return self._run(key, "evaluate", prepared, busy_timeout=timeout)

    def forget(self, key: int) -> None:
        """The set is closed: workers drop it the next time they are used."""
        with self._lock:
            self._specs.pop(key, None)

    def status(self) -> dict[str, Any]:
        with self._lock:
            alive = sum(1 for worker in self._workers if worker.process.poll() is None)
        busy = self._size - self._idle.qsize()
        return {"mode": "process", "processes": alive, "busy": busy, "restarts": self.restarts}

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._workers]

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.stop()

    def _run(self, key: int, op: str, payload: Any, busy_timeout: float) -> Any:
        try:
            worker = self._idle.get(timeout=busy_timeout)
        except queue.Empty:
            raise EngineBusy("every engine process is busy") from None
        try:
            if worker is not None and worker.process.poll() is not None:
                self._discard(worker, "exited between calls")  # not this call's doing
                worker = None
            if worker is None:
                worker = self._start()
            self._sync(worker, key if op != "load" else None)
            result = worker.ask(op, key, payload)
        except (OSError, EOFError, TimeoutError) as error:
            self._replace(worker, error)
            raise EngineUnavailable("the rules engine stopped during this call") from None
        except BaseException:
            self._idle.put(worker)
            raise
        if op == "load":
            worker.loaded.add(key)
        self._idle.put(worker)
        return result

    def _start(self) -> _Worker:
        worker = _Worker(self._timeout)
        with self._lock:
            self._workers.add(worker)
            specs = list(self._specs.items())
        for key, spec in specs:  # warms up while the caller goes on; replies read on first use
            worker.post("load", key, spec)
            worker.loaded.add(key)
        return worker

    def _sync(self, worker: _Worker, needed: int | None) -> None:
        """Drop the sets closed since the worker was last used, load the one this call needs."""
        with self._lock:
            live = set(self._specs)
            spec = self._specs.get(needed) if needed is not None else None
        for key in worker.loaded - live:
            worker.post("drop", key)
            worker.loaded.discard(key)
        if needed is not None and needed not in worker.loaded:
            if spec is None:
                raise EngineError("rule set is closed")
            worker.post("load", needed, spec)
            worker.loaded.add(needed)

    def _discard(self, worker: _Worker, what: str) -> None:
        log.error("engine process %s %s; restarting it", worker.process.pid, what)
        worker.stop()
        with self._lock:
            self._workers.discard(worker)
        self.restarts += 1

    def _replace(self, worker: _Worker | None, error: BaseException) -> None:
        """Kill a worker that crashed or hung on a call and start its successor at once."""
        if worker is not None:
            code = worker.process.poll()
            if code is None and not isinstance(error, TimeoutError):  # it closed: it is ending
                with suppress(subprocess.TimeoutExpired):
                    code = worker.process.wait(timeout=1)
            self._discard(
                worker, f"exited with {code}" if code is not None else f"did not answer ({error})"
            )
        try:
            self._idle.put(self._start())
        except OSError:
            log.exception("could not start an engine process; the next call tries again")
            self._idle.put(None)


class IsolatedRules:
    """A rule set in the engine processes; the same face as :class:`.durable.CompiledRules`."""

    def __init__(self, pool: EnginePool, key: int, schema: FactSchema):
        self._pool, self._key, self._schema = pool, key, schema

    def evaluate(self, facts: Sequence[Mapping[str, Scalar]], timeout: float = 1.0) -> list[Match]:
        """Facts are checked and written here: a fact the engine cannot take never leaves."""
        return self.run(prepare(self._schema, facts), timeout)

    def run(self, prepared: list[bytes], timeout: float = 1.0) -> list[Match]:
        """:meth:`evaluate` on facts already written by :func:`~.durable.prepare`."""
        return self._pool.evaluate(self._key, prepared, timeout)

    def close(self) -> None:
        self._pool.forget(self._key)
