"""HTTP-level guards: what a POST must be sent as, and an internal error that costs one answer.

- **415 for anything but JSON.** A ``text/plain`` or form POST is a CORS "simple request": any
  web page could make a browser send calls and forged feedback. CDS Hooks bodies are JSON, so
  only ``application/json`` and ``application/fhir+json`` (with parameters such as ``charset``)
  are read.
- **An unexpected error answers 500 and keeps the connection.** Starlette hands a handler for
  ``Exception`` to its outermost middleware, which sends the answer and then re-raises, and the
  server closes the kept-alive connection: the client's next request on it fails.
  :class:`ContainErrors` answers inside the app instead, so nothing reaches the server.
- **A client gone before its body was read is not an error.** Starlette raises
  ``ClientDisconnect``; it was logged as an unexpected error with its traceback and counted as
  a 500. It is the client's doing and there is no one to answer: a 499 in the call's line and
  count, at the level of any call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect

from ..observability.calls import client_gone, request_id
from .outcomes import ClientError, Issue, operation_outcome

log = logging.getLogger("cds_service")

JSON_TYPES = frozenset({"application/json", "application/fhir+json"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def require_json(headers: Headers) -> None:
    """A 415 OperationOutcome unless the body is declared as JSON."""
    declared = headers.get("content-type", "")
    media_type = declared.split(";", 1)[0].strip().lower()
    if media_type not in JSON_TYPES:
        said = f"'{declared[:80]}'" if declared else "no Content-Type"
        raise ClientError.of(
            415,
            "not-supported",
            f"the body must be sent as application/json or application/fhir+json, not {said}",
        )


class ContainErrors:
    """ASGI middleware: an exception before the answer started becomes a 500 OperationOutcome.

    The log line carries a reference the answer repeats, and no request data.
    """

    def __init__(self, app: App):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:
            client_gone()
        except Exception as error:
            if started:
                raise
            reference = request_id() or uuid.uuid4().hex[:12]
            log.error("unexpected error %s", reference, exc_info=error)
            message = f"internal error (reference {reference}); the service log has the details"
            body = orjson.dumps(operation_outcome(Issue("exception", message)))
            headers = [(b"content-type", b"application/json")]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
