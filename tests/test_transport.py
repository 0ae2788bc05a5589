"""Issue 12, items 6 and 9: POSTs must be JSON (415 otherwise), and a kept-alive connection
survives every error answer, over a real uvicorn server on loopback and one httpx connection.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from cds_service import service
from cds_service.app import create_app
from cds_service.config import Settings
from tests.conftest import RULES, TODAY, Client, request_fixture

SIGN = "/cds-services/oncology-order-sign"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The app under uvicorn on 127.0.0.1, an ephemeral port; yields its base URL."""
    app = create_app(Settings(rules_dir=RULES, today=TODAY, max_body_bytes=256 * 1024, auth="off"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("socket").getsockname()[1])


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_post_not_sent_as_json_is_415(client: Client, content_type: str | None):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    headers = {"content-type": content_type} if content_type else {}
    for path in (SIGN, f"{SIGN}/feedback"):
        response = client.post(path, content=json.dumps(body), headers=headers)
        assert response.status_code == 415, response.text
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/fhir+json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ],
)
def test_json_media_types_with_parameters_are_read(client: Client, content_type: str):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    response = client.post(SIGN, content=json.dumps(body), headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


def test_the_connection_survives_every_error_answer(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    real_answer = service.answer

    async def failing(*args: Any, **kwargs: Any) -> Any:
        request = args[1]
        if request.context.get("patientId") == "pt-internal-fault":
            raise RuntimeError("a fault inside the service")
        return await real_answer(*args, **kwargs)

    monkeypatch.setattr(service, "answer", failing)
    fault = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    fault["context"]["patientId"] = "pt-internal-fault"
    errors: list[tuple[int, dict[str, Any]]] = [
        (500, {"json": fault}),
        (400, {"content": b"{not json", "headers": {"content-type": "application/json"}}),
        (415, {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        (404, {"json": good, "path": "/cds-services/none"}),
        (400, {"json": {"hook": "order-sign"}}),
        (413, {"content": b" " * (300 * 1024), "headers": {"content-type": "application/json"}}),
    ]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server, limits=limits, timeout=10) as http:
        first = http.post(SIGN, json=good)
        assert first.status_code == 200
        port = _local_port(first)
        for _ in range(4):
            for status, sent in errors:
                options = dict(sent)
                path = options.pop("path", SIGN)
                response = http.post(path, **options)
                assert response.status_code == status, response.text
                assert response.headers.get("connection", "").lower() != "close"
                after = http.post(SIGN, json=good)
                assert after.status_code == 200
                assert _local_port(response) == _local_port(after) == port
