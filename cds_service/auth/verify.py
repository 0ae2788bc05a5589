"""One client JWT checked: CDS Hooks 2.0.1 §Trusting CDS Clients, and the best-practice steps.

The order matters. The unverified ``iss`` only chooses which client's rules apply: its allowed
algorithms, its ``jku`` allow-list and its keys. Nothing else in the token is believed until the
signature verifies with that client's key, for the algorithm that client may use (so an RSA
public key can never serve as an HMAC secret). Then ``aud``, ``exp``, ``iat``, ``nbf`` (with the
configured skew) and at last the ``jti``, so that a forged token cannot use up a real ``jti``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .jtistore import ReplayStore
from .keysets import KeySets, KeyUnavailable, VerifyKey
from .trust import TrustedClient

MAX_TOKEN_BYTES = 8 * 1024
"""A CDS client JWT is well under 2 kB; a longer one is not parsed."""
_REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class Unauthorized(Exception):
    """Why a token was refused, with what it named; for the log only, never for the caller."""

    def __init__(
        self,
        reason: str,
        header: Mapping[str, Any] | None = None,
        iss: Any = None,
        *,
        kind: str = "invalid",
    ):
        self.reason = reason
        self.kind = kind
        """A fixed word for the rejections metric: never anything the token said."""
        self.kid = _short((header or {}).get("kid"))
        self.iss, self.jti = _short(iss), None
        super().__init__(reason)

    def naming(self, jti: Any) -> Unauthorized:
        """This refusal, with the ``jti`` the token named (to find the call in the EHR's log)."""
        self.jti = _short(jti)
        return self


_DECODE_KINDS: dict[type[Exception], str] = {
    jwt.ExpiredSignatureError: "expired",
    jwt.ImmatureSignatureError: "not-yet-valid",
    jwt.InvalidIssuedAtError: "issued-in-future",
    jwt.InvalidAudienceError: "audience",
    jwt.InvalidIssuerError: "issuer",
    jwt.InvalidSignatureError: "signature",
    jwt.MissingRequiredClaimError: "claims",
    jwt.DecodeError: "malformed",
}
"""PyJWT's refusals by the fixed word the rejections metric counts them under."""


def _short(value: Any) -> Any:
    """A value the caller chose, cut to a length a log line can carry."""
    return value[:120] if isinstance(value, str) else value


@dataclass
class Verifier:
    clients: Mapping[str, TrustedClient]
    keysets: KeySets
    replay: ReplayStore
    skew: float

    async def verify(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a token valid for a call to ``audience``; else :class:`Unauthorized`."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized(f"token longer than {MAX_TOKEN_BYTES} bytes", kind="malformed")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise Unauthorized(f"malformed: {error}", kind="malformed") from None
        iss = unverified.get("iss")
        client = self.clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise Unauthorized("iss is not a trusted client", header, iss, kind="issuer")
        if header.get("typ") != "JWT":
            raise Unauthorized(
                f"typ {header.get('typ')!r} is not JWT", header, iss, kind="malformed"
            )
        alg = header.get("alg")
        if alg not in client.algorithms:
            raise Unauthorized(
                f"alg {alg!r} is not allowed for this client", header, iss, kind="algorithm"
            )
        key = await self._key(client, header)
        if key.alg is not None and key.alg != alg:
            raise Unauthorized(
                f"the key is for {key.alg}, the token says {alg}", header, iss, kind="algorithm"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                leeway=self.skew,
                options={"require": _REQUIRED, "verify_iat": True},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            refused = Unauthorized(
                f"{type(error).__name__}: {error}",
                header,
                iss,
                kind=_DECODE_KINDS.get(type(error), "invalid"),
            )
            raise refused.naming(unverified.get("jti")) from None
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("jti is not a text", header, iss, kind="claims")
        seconds = max(1, int(claims["exp"] - time.time() + self.skew) + 1)
        if not await self.replay.first_use(iss, jti, seconds):
            raise Unauthorized("jti already used", header, iss, kind="replay").naming(jti)
        return claims

    async def _key(self, client: TrustedClient, header: Mapping[str, Any]) -> VerifyKey:
        """The client's key named by ``kid``: its out-of-band keys, then its allowed JWKS URLs."""
        kid, jku = header.get("kid"), header.get("jku")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("no kid", header, client.iss, kind="key")
        if jku is not None and jku not in client.jku:
            raise Unauthorized(
                f"jku {jku!r} is not on this client's list", header, client.iss, kind="jku"
            )
        if kid in client.keys:
            return client.keys[kid]
        for url in (jku,) if jku is not None else client.jku:
            try:
                key = await self.keysets.key(url, kid)
            except KeyUnavailable as error:
                raise Unauthorized(
                    str(error), header, client.iss, kind="keys-unavailable"
                ) from None
            if key is not None:
                return key
        raise Unauthorized("unknown kid", header, client.iss, kind="key")
