"""The FHIR fallback: the queries prefetch left open, run against the client's ``fhirServer``.

Every query of one CDS call runs at once on the app's one shared ``httpx.AsyncClient`` (its
connection pool), and all of them together get one deadline. Only servers on the operator's
allow-list are queried, and every URL sent (page links included) must stay under the allowed
base, so the service cannot be made a proxy to other hosts. The bearer token from
``fhirAuthorization`` goes into one request's headers and nowhere else: not the client, not a
log line, not an error message. Redirects are not followed and cookies are not kept, so the token
and one patient's session cannot travel to another host or another call.

A query that cannot be answered is returned as an Issue naming its key and the cause (timeout,
refused token, server error with what the server said, unreadable answer, ...): the checks that
read that key do not run and the answer says why; a 412 only when no check can run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import orjson

from ..auth.fhirurl import allowed_base, under
from ..config import Settings
from ..observability import metrics
from ..protocol.messages import HookRequest
from ..protocol.outcomes import Issue
from .keys import IdTooLong, Malformed, Query, next_page, unavailable, unpack

log = logging.getLogger("cds_service.fhir")

_RETRY_STATUSES = {502, 503, 504}
"""Answers from a gateway or an overloaded server: the GET was not acted on, so try again."""
_RETRY_PAUSE = 0.05


def new_client(settings: Settings) -> httpx.AsyncClient:
    """The one client the app shares between calls: pooled connections, nothing remembered."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.fhir_deadline),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        follow_redirects=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        trust_env=False,
    )


class _Failed(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


@dataclass(frozen=True)
class Access:
    """Where one call's queries go, and the headers (the bearer token) they carry."""

    base: httpx.URL
    headers: Mapping[str, str] = field(repr=False)


def access(request: HookRequest, settings: Settings) -> Access:
    """The request's FHIR server, if it may be queried; otherwise why not (_Failed)."""
    if request.fhirServer is None:
        raise _Failed("incomplete", "the request names no fhirServer to fetch it from")
    base = allowed_base(request.fhirServer, settings.fhir_servers)
    if base is None:
        why = (
            f"fhirServer {request.fhirServer} is not a server this service may query "
            "(the operator lists them in CDS_FHIR_SERVERS)"
        )
        raise _Failed("forbidden", why)
    headers = {"Accept": "application/fhir+json"}
    if request.fhirAuthorization is not None:
        headers["Authorization"] = f"Bearer {request.fhirAuthorization.access_token}"
    return Access(base, headers)


async def fetch(
    queries: Mapping[str, Query],
    request: HookRequest,
    client: httpx.AsyncClient | None,
    settings: Settings,
) -> tuple[dict[str, list[Mapping[str, Any]]], dict[str, Issue]]:
    """Each query's resources (every page), and per query that could not be answered, why.

    ``client`` is the app's shared one, made by its lifespan; None only where no lifespan ran.
    """
    try:
        server = access(request, settings)
    except _Failed as refused:
        return {}, {k: unavailable(q, refused.message, refused.code) for k, q in queries.items()}
    if client is None:
        raise RuntimeError("no FHIR client: the app runs without its lifespan")
    base, headers = server.base, server.headers
    started = time.perf_counter()
    tasks = {
        key: asyncio.create_task(_resources(client, base, query, headers, settings))
        for key, query in queries.items()
    }
    _, pending = await asyncio.wait(tasks.values(), timeout=settings.fhir_deadline)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)  # let their connections close
    results: dict[str, list[Mapping[str, Any]]] = {}
    issues: dict[str, Issue] = {}
    for key, task in tasks.items():
        query = queries[key]
        if task in pending:
            why = f"the FHIR server did not answer within {settings.fhir_deadline:g} s"
            issues[key] = unavailable(query, why, "timeout")
            metrics.count_fallback("timeout")
        elif isinstance(failed := task.exception(), _Failed):
            issues[key] = unavailable(query, failed.message, failed.code)
            metrics.count_fallback(failed.code)
        else:
            results[key] = task.result()  # re-raises anything unforeseen: a 500 with a log line
            metrics.count_fallback("ok")
    elapsed = (time.perf_counter() - started) * 1000
    log.info(
        "fhir fallback server=%s keys=%s failed=%s ms=%.0f",
        base.host,
        ",".join(queries),
        ",".join(issues) or "-",
        elapsed,
    )
    return results, issues


async def _resources(
    client: httpx.AsyncClient,
    base: httpx.URL,
    query: Query,
    headers: Mapping[str, str],
    settings: Settings,
) -> list[Mapping[str, Any]]:
    """All the resources of one query, following ``next`` links up to the page limit."""
    url: str | None = query.url
    resources: list[Mapping[str, Any]] = []
    pages = 0
    while url is not None:
        pages += 1
        if pages > settings.fhir_max_pages:
            raise _Failed(
                "too-costly",
                f"the search has more than {settings.fhir_max_pages} pages (CDS_FHIR_MAX_PAGES)",
            )
        try:
            target = base.join(url)
        except httpx.InvalidURL:
            raise _Failed("structure", f"a next link is not a valid URL: {url!r}") from None
        if not under(target, base):
            raise _Failed("security", "a link from the FHIR server leads outside fhirServer")
        body = await _get(client, target, headers, settings, query.read)
        if body is None:
            return []
        if not query.read and body["resourceType"] != "Bundle":
            raise _Failed("structure", f"the FHIR server answered a {body['resourceType']}")
        try:
            page = unpack(body)
            url = next_page(body)
        except IdTooLong as error:  # never echoed into a card, as a client's would be refused
            raise _Failed("structure", f"the FHIR server sent {error}") from None
        except Malformed as error:
            raise _Failed("structure", f"the FHIR server's Bundle is malformed: {error}") from None
        resources += page
    return resources


async def _get(
    client: httpx.AsyncClient,
    url: httpx.URL,
    headers: Mapping[str, str],
    settings: Settings,
    is_read: bool,
) -> Mapping[str, Any] | None:
    """One resource or Bundle; None for a read of a resource that does not exist."""
    for attempt in range(settings.fhir_retries + 1):
        last = attempt == settings.fhir_retries
        try:
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code in _RETRY_STATUSES and not last:
                    await asyncio.sleep(_RETRY_PAUSE * 2**attempt)
                    continue
                if is_read and response.status_code in (404, 410):
                    return None
                if response.status_code != 200:
                    said = await _said(response)
                    _check_status(response, "Authorization" in headers, said)
                return _resource(await _read(response, settings.fhir_max_bytes))
        except httpx.ConnectError:
            # Nothing reached the server, so a second try cannot do anything twice.
            if last:
                raise _Failed("transient", "could not connect to the FHIR server") from None
            await asyncio.sleep(_RETRY_PAUSE * 2**attempt)
        except (httpx.ReadError, httpx.RemoteProtocolError) as error:
            # A pooled connection the server closed as it was reused: a GET may be sent again.
            if last:
                message = f"the FHIR server connection failed ({type(error).__name__})"
                raise _Failed("transient", message) from None
            await asyncio.sleep(_RETRY_PAUSE * 2**attempt)
        except httpx.TimeoutException:
            raise _Failed("timeout", "the FHIR server did not answer in time") from None
        except httpx.HTTPError as error:
            raise _Failed(
                "transient", f"the FHIR server connection failed ({type(error).__name__})"
            ) from None
    raise AssertionError("unreachable: the last attempt returns or raises")


_SAID_BYTES = 16 * 1024
_SAID_CHARACTERS = 200


async def _said(response: httpx.Response) -> str:
    """What an error answer's OperationOutcome says, briefly (``: text``), or nothing."""
    try:
        outcome = orjson.loads(await _read(response, _SAID_BYTES))
    except (_Failed, orjson.JSONDecodeError, httpx.HTTPError):
        return ""
    if not isinstance(outcome, dict) or not isinstance(outcome.get("issue"), list):
        return ""
    texts = []
    for issue in outcome["issue"]:
        details = issue.get("details") if isinstance(issue, dict) else None
        text = (details or {}).get("text") if isinstance(details, dict) else None
        text = text or (issue.get("diagnostics") if isinstance(issue, dict) else None)
        if isinstance(text, str) and text.strip():
            texts.append(" ".join(text.split()))
    said = "; ".join(texts)
    if len(said) > _SAID_CHARACTERS:
        said = said[: _SAID_CHARACTERS - 3] + "..."
    return f": {said}" if said else ""


def _check_status(response: httpx.Response, sent_token: bool, said: str) -> None:
    status = response.status_code
    if status == 401:
        said = "refused the access token" if sent_token else "asks for a token the request lacks"
        raise _Failed("login", f"the FHIR server {said} (HTTP 401)")
    if status == 403:
        raise _Failed("forbidden", "the FHIR server does not allow this query (HTTP 403)")
    if status == 429:
        raise _Failed("throttled", "the FHIR server is throttling requests (HTTP 429)")
    if 300 <= status < 400:
        raise _Failed("not-supported", f"the FHIR server redirected (HTTP {status}); not followed")
    code = "transient" if status >= 500 else "processing"
    raise _Failed(code, f"the FHIR server answered HTTP {status}{said}")


async def _read(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise _Failed("too-costly", f"the FHIR server's answer is larger than {limit} bytes")
    return bytes(body)


def _resource(body: bytes) -> Mapping[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _Failed("structure", "the FHIR server's answer is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise _Failed("structure", "the FHIR server's answer is not a FHIR resource")
    if value["resourceType"] == "OperationOutcome":
        raise _Failed("processing", "the FHIR server answered with an OperationOutcome")
    return value
