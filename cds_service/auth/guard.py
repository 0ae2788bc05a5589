"""The gate in front of discovery, service calls and feedback: a valid client JWT, or a 401.

Every refusal gets the same answer, an OperationOutcome that says only that the call is not
authorized, with ``WWW-Authenticate: Bearer``: telling a caller which check failed would help
only a forger. The reason goes to the log with the ``iss``, ``kid`` and ``jti`` it named, never
with the token. ``/health`` and ``/openapi.json`` stay open (they hold no patient data).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Settings
from ..observability import calls, metrics
from ..protocol.outcomes import Issue, operation_outcome
from .jtistore import MemoryReplay, RedisReplay, ReplayStore, StoreUnavailable
from .keysets import KeySets
from .trust import load_trust
from .verify import Unauthorized, Verifier

log = logging.getLogger("cds_service.auth")

GUARDED = "/cds-services"
"""Discovery, and every path under it: the service calls and their feedback."""

HOW_TO_CONFIGURE = (
    "CDS_AUTH=required (the default) needs CDS_TRUST_FILE, a YAML file listing the CDS clients "
    "to trust (iss, jku or jwks_file, algorithms), and CDS_PUBLIC_BASE_URL, the URL clients call "
    "this service at (a JWT's aud). See README 'Securing the service'. For a local demonstration "
    "only, CDS_AUTH=off trusts every caller."
)


class AuthConfigError(Exception):
    """The service cannot decide whom to trust: it refuses to start, saying how to configure."""


def verifier_for(settings: Settings) -> Verifier | None:
    """The verifier ``settings`` ask for; None when auth is explicitly off (logged)."""
    if settings.auth == "off":
        log.warning("CDS_AUTH=off: every caller is trusted; never run this way with patient data")
        return None
    if settings.auth != "required":
        raise AuthConfigError(f"CDS_AUTH must be 'required' or 'off', not {settings.auth!r}")
    if settings.trust_file is None or not settings.public_base_url:
        raise AuthConfigError(HOW_TO_CONFIGURE)
    public = urlsplit(settings.public_base_url)
    if public.scheme not in ("http", "https") or not public.netloc or public.query:
        message = f"CDS_PUBLIC_BASE_URL {settings.public_base_url!r} is not an http(s) base URL"
        raise AuthConfigError(message)
    clients = load_trust(settings.trust_file)
    replay: ReplayStore = (
        RedisReplay(settings.redis_url, settings.redis_prefix)
        if settings.redis_url
        else MemoryReplay()
    )
    log.info("client JWT required; %d trusted clients", len(clients))
    return Verifier(clients, KeySets(settings.jwks_lifetime), replay, settings.clock_skew)


class RequireClientJwt:
    """ASGI middleware: the guarded paths answer 401 unless the bearer token verifies.

    ``aud`` is built from the configured public base URL and the path called, never from the
    Host header, which a proxy or a caller may set to anything.
    """

    def __init__(self, app: ASGIApp, verifier: Verifier, public_base_url: str):
        self.app, self.verifier = app, verifier
        self.base = public_base_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        guarded = path == GUARDED or path.startswith(GUARDED + "/")
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or not guarded:
            await self.app(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("no bearer token", kind="no-token")
            claims = await self.verifier.verify(token.strip(), self.base + path)
        except Unauthorized as refused:
            metrics.count_token_rejection(refused.kind)
            log.warning(
                "unauthorized call path=%s reason=%s iss=%r kid=%r jti=%r",
                path,
                refused.reason,
                refused.iss,
                refused.kid,
                refused.jti,
            )
            await _answer(401, Issue("login", "the call is not authorized"), scope, receive, send)
            return
        except StoreUnavailable as error:
            log.error("replay store unavailable: %s", error)
            issue = Issue("transient", "the service cannot check the token now; retry")
            await _answer(503, issue, scope, receive, send)
            return
        calls.issued_by(claims["iss"])
        await self.app(scope, receive, send)


async def _answer(status: int, issue: Issue, scope: Scope, receive: Receive, send: Send) -> None:
    headers: dict[str, Any] = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    body = orjson.dumps(operation_outcome(issue))
    response = Response(body, status, headers, media_type="application/json")
    await response(scope, receive, send)
