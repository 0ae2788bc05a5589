"""``cds-service keys generate`` and ``cds-service token``: what an integrator needs for curl.

A key pair with its public JWKS (to publish at a ``jku`` or hand over as a ``jwks_file``), and a
token minted with the private key for one service URL, as a CDS client would send it.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def add_commands(commands: Any) -> None:
    """The two commands, on the ``cds-service`` sub-command parser."""
    keys = commands.add_parser("keys", help="make a CDS client key pair").add_subparsers(
        required=True, metavar="ACTION"
    )
    generate = keys.add_parser("generate", help="write a private key (PEM) and its public JWKS")
    generate.add_argument("--alg", default="ES384", choices=[*_CURVES, "RS384", "RS256"])
    generate.add_argument("--kid", default=None, help="key id (default: a random one)")
    generate.add_argument("--out", type=Path, default=Path(), help="folder (default: here)")
    generate.set_defaults(run=_generate)
    token = commands.add_parser("token", help="mint a client JWT for one service URL")
    token.add_argument("--key", type=Path, required=True, help="the private key (PEM)")
    token.add_argument("--kid", required=True, help="the key's id in the client's JWKS")
    token.add_argument("--iss", required=True, help="the client's issuer, as in the trust file")
    token.add_argument("--aud", required=True, help="the URL called, e.g. BASE/cds-services")
    token.add_argument("--jku", help="the JWKS URL to name in the header (optional)")
    token.add_argument("--lifetime", type=int, default=300, help="seconds (default: 300)")
    token.set_defaults(run=_token)


def _generate(args: argparse.Namespace, _: object) -> int:
    kid = args.kid or uuid.uuid4().hex[:16]
    if args.alg in _CURVES:
        private: Any = ec.generate_private_key(_CURVES[args.alg]())
        public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    args.out.mkdir(parents=True, exist_ok=True)
    pem = args.out / f"{kid}.private.pem"
    pem.touch(mode=0o600, exist_ok=False)
    pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    jwks = args.out / f"{kid}.jwks.json"
    jwk = {**public, "kid": kid, "use": "sig", "alg": args.alg}
    jwks.write_text(json.dumps({"keys": [jwk]}, indent=2) + "\n", encoding="utf-8")
    print(f"private key: {pem} (keep it with the client; never in the trust file)")
    print(f"public JWKS: {jwks} (publish it at the client's jku, or name it as jwks_file)")
    print(f"kid: {kid}")
    return 0


def _token(args: argparse.Namespace, _: object) -> int:
    private = serialization.load_pem_private_key(args.key.read_bytes(), password=None)
    if isinstance(private, ec.EllipticCurvePrivateKey):
        alg = next(name for name, curve in _CURVES.items() if curve.name == private.curve.name)
    elif isinstance(private, rsa.RSAPrivateKey):
        alg = "RS384"
    else:
        raise SystemExit("error: the key must be an EC or RSA private key")
    now = int(time.time())
    claims = {
        "iss": args.iss,
        "aud": args.aud,
        "iat": now,
        "exp": now + args.lifetime,
        "jti": str(uuid.uuid4()),
    }
    header = {"kid": args.kid, "typ": "JWT", **({"jku": args.jku} if args.jku else {})}
    print(jwt.encode(claims, private, algorithm=alg, headers=header))
    return 0
