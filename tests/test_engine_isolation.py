"""The engine in supervised processes: a crash or a hang costs one call, never the server.

The engine process is killed for real (SIGKILL while a call waits on it, SIGSTOP for a hang):
that call is a 503 saying the checks could not run, the process is replaced, and the next call
gets its cards.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from cds_service import service
from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.engine.durable import EngineError
from cds_service.engine.encoding import FactRefused
from cds_service.engine.supervisor import EnginePool, EngineUnavailable
from cds_service.ruleset.loader import load_rule_set
from cds_service.ruleset.reload import LiveRules, reload
from tests.conftest import DPYD, RULES, Client, copy_rules, replace_in, request_fixture
from tests.fixture_cases import TODAY

REQUEST = "dpyd-c1905-het-capecitabine.order-sign"
URL = "/cds-services/oncology-order-sign"
SCHEMA = {"lab": {"name": str, "value": float}}
T = TypeVar("T")


@pytest.fixture
def served() -> Iterator[tuple[Client, EnginePool]]:
    app = create_app(
        Settings(rules_dir=RULES, today=TODAY, reload_seconds=0, auth="off", engine_timeout=2.0)
    )
    client = Client(app)
    yield client, app.state.engine
    client.close()
    app.state.engine.close()


def fresh() -> dict[str, Any]:
    """The DPYD request as a record the service has not checked: a new identifier on its
    genotype (a member no reader reads), so that the call reaches the engine. The same record
    sent again is answered from what the service remembers, without the engine."""
    request = request_fixture(REQUEST)
    genotype = request["prefetch"]["pgx"]["entry"][0]["resource"]
    genotype["identifier"] = [{"system": "urn:example:call", "value": uuid.uuid4().hex}]
    return request


def dpyd_summary(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return next(c["summary"] for c in response.json()["cards"] if "DPYD" in c["summary"])


def call_while(client: Client, pool: EnginePool, act: Callable[[], None]) -> httpx.Response:
    """Post the DPYD request from another thread, and ``act()`` once it holds the engine."""
    return held(pool, lambda: client.post(URL, json=fresh()), act)


def held(pool: EnginePool, call: Callable[[], T], act: Callable[[], None]) -> T:
    """``call()`` from another thread, ``act()`` once it holds the engine; what the call
    returned, or what it raised, raised here."""
    outcome: list[Any] = []

    def caller() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test, which asserts which
            outcome.append(error)

    thread = threading.Thread(target=caller)
    thread.start()
    deadline = time.monotonic() + 20
    while not pool.status()["busy"] and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the request is written; the caller waits on the stopped process
    act()
    thread.join(timeout=30)
    (result,) = outcome
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


def exited(pid: int) -> None:
    """Wait until a killed engine process has exited (a zombie until the pool reaps it): a
    call made while it is still dying fails, one made after it is answered by its successor,
    and a test must know which of the two it makes."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"engine process {pid} still running 10 s after SIGKILL")


def stopped_checks(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "transient"
    assert "checks could not run" in outcome["issue"][0]["diagnostics"]


def test_an_engine_crash_mid_call_costs_that_call_and_the_next_one_gets_its_cards(served):
    client, pool = served
    expected = dpyd_summary(client.post(URL, json=fresh()))
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGSTOP)  # holds the call in flight until the kill

    stopped_checks(call_while(client, pool, lambda: os.kill(pid, signal.SIGKILL)))

    assert dpyd_summary(client.post(URL, json=fresh())) == expected
    (successor,) = pool.pids()
    assert successor != pid
    assert client.get("/health").json()["engine"] == {
        "mode": "process",
        "processes": 1,
        "busy": 0,
        "restarts": 1,
    }


def test_a_hung_engine_is_replaced_at_the_timeout(served):
    client, pool = served
    client.post(URL, json=fresh())
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    response = client.post(URL, json=fresh())
    stopped_checks(response)
    assert time.monotonic() - started < 5
    assert dpyd_summary(client.post(URL, json=fresh()))
    assert pool.pids() != [pid]


def test_a_process_that_died_between_calls_is_replaced_before_the_next_one(served):
    client, pool = served
    expected = dpyd_summary(client.post(URL, json=fresh()))
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGKILL)
    exited(pid)
    assert dpyd_summary(client.post(URL, json=fresh())) == expected
    assert pool.pids() != [pid]
    assert pool.restarts == 1


def test_a_segfault_in_the_c_code_costs_one_call(caplog: pytest.LogCaptureFixture):
    """A crash of durable-rules' C code in the middle of a call. The text the service sent
    before numbers were written for the engine crashed it on Python 3.11, but 3.12's build
    refuses that text instead, so the crash is made for certain: the process is stopped while
    the call waits on it, sent SIGSEGV, and continued, when the signal kills it."""
    pool = EnginePool(1, timeout=10)
    try:
        rules = pool.rules({"any": [("lab", {"t": "lab"})]}, SCHEMA)
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGSTOP)

        def crash() -> None:
            os.kill(pid, signal.SIGSEGV)
            os.kill(pid, signal.SIGCONT)

        with pytest.raises(EngineUnavailable):
            held(pool, lambda: rules.evaluate([{"t": "lab", "value": 1e-6}]), crash)
        assert f"engine process {pid} exited with -{int(signal.SIGSEGV)}" in caplog.text
        assert [m.rule_id for m in rules.evaluate([{"t": "lab", "value": 1e-6}])] == ["any"]
        assert pool.status()["restarts"] == 1
    finally:
        pool.close()


def test_errors_of_the_engine_reach_the_caller_as_in_process():
    pool = EnginePool(1, timeout=10)
    try:
        with pytest.raises(EngineError) as refused:
            pool.rules({"empty": []}, SCHEMA)
        assert refused.value.rule_id == "empty"
        rules = pool.rules({"any": [("lab", {"t": "lab"})]}, SCHEMA)
        assert [m.rule_id for m in rules.evaluate([{"t": "lab", "value": 1e-6}])] == ["any"]
        with pytest.raises(FactRefused):
            rules.evaluate([{"t": "lab", "value": math.inf}])
        assert pool.restarts == 0
    finally:
        pool.close()


def test_a_closed_set_is_dropped_and_a_restarted_process_loads_the_live_ones():
    pool = EnginePool(1, timeout=10)
    try:
        old = pool.rules({"old": [("lab", {"t": "lab"})]}, SCHEMA)
        new = pool.rules({"new": [("lab", {"t": "lab"})]}, SCHEMA)
        old.close()
        assert [m.rule_id for m in new.evaluate([{"t": "lab"}])] == ["new"]
        with pytest.raises(EngineError, match="closed"):
            old.evaluate([{"t": "lab"}])
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGKILL)
        exited(pid)
        assert [m.rule_id for m in new.evaluate([{"t": "lab"}])] == ["new"]
        assert pool.restarts == 1
        assert pool.pids() != [pid]
        with pytest.raises(EngineError, match="closed"):
            old.evaluate([{"t": "lab"}])
    finally:
        pool.close()


def test_a_hot_reload_reaches_the_engine_process(tmp_path: Path):
    rules = copy_rules(tmp_path)
    pool = EnginePool(1, timeout=10)
    live = LiveRules(load_rule_set(rules, pool.rules), pool.rules)
    try:
        replace_in(rules / DPYD, "metabolizer (AS 1): start", "metabolizer (activity 1): start")
        report = asyncio.run(reload(live, rules, timeout=120))
        assert report.outcome == "loaded", report.problems
        request = service.parse_request(request_fixture(REQUEST))
        chosen = live.current.service_for("order-sign")
        assert chosen is not None
        cards = service.call(chosen, request, live.current, TODAY).cards
        assert any("(activity 1): start" in card.summary for card in cards)
    finally:
        live.close()
        pool.close()


def test_the_engine_runs_in_process_when_an_operator_says_so():
    app = create_app(
        Settings(rules_dir=RULES, today=TODAY, reload_seconds=0, auth="off", engine_processes=0)
    )
    client = Client(app)
    try:
        assert app.state.engine is None
        assert client.get("/health").json()["engine"] == {"mode": "in-process"}
        assert dpyd_summary(client.post(URL, json=request_fixture(REQUEST)))
    finally:
        client.close()
