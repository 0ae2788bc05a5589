"""Real signing keys and CDS client JWTs for the auth tests, made with ``cryptography``/PyJWT.

Also a JWKS served over HTTP on 127.0.0.1 (a ``jku``), whose keys a test can rotate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.servers import StandIn, StandInRequest

PUBLIC_BASE = "https://cds.example.org"
"""The service's public URL in these tests; the test client itself calls ``http://cds.test``."""


@dataclass
class Signer:
    """One client key pair: signs tokens with ``alg`` and publishes its public JWK."""

    alg: str
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        if self.alg.startswith("ES"):
            self.private: Any = ec.generate_private_key(ec.SECP384R1())
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        family = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        public = json.loads(family.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(
        self, iss: str, path: str, claims: dict[str, Any] | None = None, **header: Any
    ) -> str:
        """A token for a call to ``path``; ``claims`` and ``header`` override the valid ones."""
        now = int(time.time())
        payload = {
            "iss": iss,
            "aud": PUBLIC_BASE + path,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            **(claims or {}),
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {"kid": self.kid, "typ": "JWT", **header}
        return jwt.encode(payload, self.private, algorithm=self.alg, headers=headers)


def unsigned(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None = None) -> str:
    """A token PyJWT would refuse to make: ``alg: none``, or HS256 with a public key as secret."""
    parts = [_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode())]
    signing_input = ".".join(parts).encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest() if secret else b""
    return ".".join([*parts, _b64(signature)])


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and payload of a token, unverified, to forge variants of it."""
    header = jwt.get_unverified_header(token)
    return header, jwt.decode(token, options={"verify_signature": False})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class JwksHost:
    """A JWKS served over HTTP on 127.0.0.1; ``keys`` may change while it runs (rotation)."""

    def __init__(self, *signers: Signer):
        self.keys = list(signers)
        self.server = StandIn(self._answer)

    def _answer(self, request: StandInRequest) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps({"keys": [s.jwk() for s in self.keys]}).encode()
        return 200, {"Content-Type": "application/json"}, body

    def url(self, name: str = "jwks.json") -> str:
        return self.server.url.removesuffix("/fhir") + "/" + name

    def fetches(self, name: str = "jwks.json") -> int:
        return sum(1 for seen in self.server.seen if seen["path"] == "/" + name)

    def __enter__(self) -> JwksHost:
        self.server.__enter__()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.__exit__()
