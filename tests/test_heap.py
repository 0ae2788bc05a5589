"""The collector during a call: what a call makes it frees itself, so nothing should walk it."""

from __future__ import annotations

import asyncio
import copy
import gc
from typing import Any

import httpx

from cds_service.app import create_app
from cds_service.config import Settings
from tests.conftest import RULES, TODAY, request_fixture

DPYD = "dpyd-c1905-het-capecitabine.order-sign"


def padded(call: int, visits: int) -> dict[str, Any]:
    """The DPYD order with ``visits`` earlier weights, heights and creatinines (some 1,000
    resources at 330), every id new for each ``call``, so that no cache answers for them."""
    request = request_fixture(DPYD)
    bundle = request["prefetch"]["oncology"]
    measured = [entry["resource"] for entry in bundle["entry"]]
    for visit in range(1, visits + 1):
        for resource in measured:
            earlier = copy.deepcopy(resource)
            earlier["id"] = f"{resource['id'][:40]}-{call}-{visit}"
            earlier["effectiveDateTime"] = f"20{10 + visit % 10}-0{1 + visit % 9}-1{visit % 10}"
            bundle["entry"].append({"resource": earlier})
    return request


def test_a_call_of_a_thousand_resources_sets_off_no_collection_once_started():
    """With CPython's threshold (700) such a call set off some 25 young collections and, as
    what they found moved up, a full one every five calls: each walked what the call still
    held, to free nothing."""
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    async def calls() -> list[httpx.Response]:
        settings = Settings(rules_dir=RULES, today=TODAY, auth="off", reload_seconds=0)
        app = create_app(settings)
        answers = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://cds.test") as client:
                path = "/cds-services/oncology-order-sign"
                await client.post(path, json=padded(0, 330))  # imports what later calls reuse
                gc.collect()
                assert gc.isenabled()  # else no collection would prove nothing
                gc.callbacks.append(count)
                try:
                    for call in range(1, 4):
                        answers.append(await client.post(path, json=padded(call, 330)))
                finally:
                    gc.callbacks.remove(count)
        return answers

    threshold = gc.get_threshold()
    try:
        answers = asyncio.run(calls())
    finally:
        gc.set_threshold(*threshold)
    assert [answer.status_code for answer in answers] == [200] * 3
    assert all(answer.json()["cards"] for answer in answers)
    assert collections == []
