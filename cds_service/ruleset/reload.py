"""Hot reload: the running service picks up edited rule files without a restart.

A change is proven before it is served. ``cds-service rules test`` runs on the new files in a
child process with a time limit, so a rule set that would crash or hang the engine costs a
child process, never the service. Only a rule set that passes, and whose files did not change
meanwhile, is loaded and swapped in whole. Requests hold a lease on the set they started with,
so a request in flight finishes on the old set, which is closed when its last lease ends. A
rejected change leaves the old set serving; ``/health`` says which version is live and what
the last reload said.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..engine.durable import CompiledRules, EngineFactory
from ..heap import collector_paused, settle_heap
from ..observability import metrics
from .loader import RuleSet, RuleSetInvalid, load_rule_set, version_of

log = logging.getLogger("cds_service.reload")


@dataclass(frozen=True)
class ReloadReport:
    """What one reload attempt found; shown at ``/health`` until the next one."""

    at: str
    outcome: str
    """``loaded``, ``rejected`` (problems or failing examples), ``timed-out`` or ``failed``."""
    version: str
    """The version of the files that were tried."""
    seconds: float
    problems: list[str] = field(default_factory=list)

    def wire(self, folder: Path) -> dict[str, Any]:
        """As ``/health`` shows it: files named within the rules folder, no path of the machine."""
        shown = asdict(self)
        prefixes = (f"{folder.resolve()}/", f"{folder}/")
        shown["problems"] = [_within(problem, prefixes) for problem in self.problems]
        return shown


def _within(problem: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        problem = problem.replace(prefix, "")
    return problem


class LiveRules:
    """The rule set requests are served with, replaced whole and closed when no one uses it."""

    def __init__(self, rule_set: RuleSet, compile_rules: EngineFactory = CompiledRules):
        """``compile_rules`` is the engine ``rule_set`` was loaded with; reloads use it too."""
        self.current = rule_set
        self.compile_rules = compile_rules
        self.loaded_at = _now()
        self.last_reload: ReloadReport | None = None
        self._leases: dict[int, int] = {}
        self._retired: dict[int, RuleSet] = {}
        metrics.serving(rule_set.version)

    @contextmanager
    def lease(self) -> Iterator[RuleSet]:
        """The current set, kept open until the block ends even if a reload replaces it."""
        rule_set = self.current
        key = id(rule_set)
        self._leases[key] = self._leases.get(key, 0) + 1
        try:
            yield rule_set
        finally:
            self._leases[key] -= 1
            if not self._leases[key]:
                del self._leases[key]
                retired = self._retired.pop(key, None)
                if retired is not None:
                    retired.close()

    def swap(self, rule_set: RuleSet) -> None:
        old, self.current, self.loaded_at = self.current, rule_set, _now()
        metrics.serving(rule_set.version, old.version)
        if id(old) in self._leases:
            self._retired[id(old)] = old
        else:
            old.close()
        settle_heap()

    def close(self) -> None:
        self.current.close()

    def status(self) -> dict[str, Any]:
        rule_set = self.current
        return {
            "version": rule_set.version,
            "directory": rule_set.directory.name,
            "loadedAt": self.loaded_at,
            "files": len(rule_set.files),
            "rules": len(rule_set.rules),
            "lastReload": self.last_reload.wire(rule_set.directory) if self.last_reload else None,
        }


async def watch(live: LiveRules, directory: Path, interval: float, timeout: float) -> None:
    """Poll ``directory`` every ``interval`` seconds and reload when its content changes.

    Polling the content digest works the same on a laptop, in a container with a mounted
    volume and on a network share, where file-change notifications are not reliable.
    """
    seen = live.current.version
    while True:
        await asyncio.sleep(interval)
        try:
            now = await asyncio.to_thread(version_of, directory)
        except OSError as error:
            log.warning("cannot read rules folder %s: %s", directory, error)
            continue
        if now != seen:
            try:
                report = await reload(live, directory, timeout)
            except Exception:  # the watcher must outlive any one attempt; the old set serves
                log.exception("rules reload failed; the previous rule set keeps serving")
                live.last_reload = ReloadReport(_now(), "failed", now, 0.0, ["see the log"])
                metrics.reloaded("failed")
                seen = now
                continue
            seen = report.version if report.outcome != "superseded" else ""


async def reload(live: LiveRules, directory: Path, timeout: float) -> ReloadReport:
    """Check ``directory`` in a child process, then load and swap it in if it passed."""
    started = time.monotonic()
    version = await asyncio.to_thread(version_of, directory)
    outcome, checked, problems = await _verify(directory, timeout)
    if outcome == "passed" and checked != version:
        outcome, problems = "superseded", ["the files changed while they were checked"]
    elif outcome == "passed":
        with collector_paused():
            try:
                rule_set = await asyncio.to_thread(load_rule_set, directory, live.compile_rules)
            except RuleSetInvalid as error:
                outcome, problems = "superseded", [str(p) for p in error.problems]
            else:
                if rule_set.version == version:
                    live.swap(rule_set)
                    outcome, problems = "loaded", []
                else:
                    rule_set.close()
                    outcome, problems = "superseded", ["the files changed while they were loaded"]
    report = ReloadReport(_now(), outcome, version, round(time.monotonic() - started, 3), problems)
    if outcome != "superseded":
        live.last_reload = report
    metrics.reloaded(outcome)
    level = logging.INFO if outcome in ("loaded", "superseded") else logging.ERROR
    log.log(
        level,
        "rules reload %s: version %s in %.2f s %s",
        outcome,
        version,
        report.seconds,
        "; ".join(problems),
    )
    return report


async def _verify(directory: Path, timeout: float) -> tuple[str, str | None, list[str]]:
    """The outcome of ``rules test`` on ``directory``, the version it saw, and its problems."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cds_service.cli",
        "rules",
        "test",
        str(directory),
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return "timed-out", None, [f"checking the rules took longer than {timeout:g} s"]
    try:
        verdict = json.loads(out)
    except ValueError:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return "failed", None, [f"the check exited with {process.returncode}: {' '.join(tail)}"]
    problems = [
        f"{p['file']}:{p['line'] or 1}: {'rule ' + p['rule'] + ': ' if p['rule'] else ''}"
        f"{p['message']}"
        for p in verdict["problems"]
    ]
    problems += [
        f"{f['file']}:{f['line']}: example {f['example']!r}: {'; '.join(f['problems'])}"
        for f in verdict.get("failures", [])
    ]
    if problems or process.returncode != 0:
        return "rejected", verdict["version"], problems or [f"exit code {process.returncode}"]
    return "passed", verdict["version"], []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
