"""What checking the client JWT costs per call, once the client's JWKS is cached.

For each recommended algorithm (ES384 with its JWKS fetched once from a ``jku`` on loopback,
RS384 with its JWKS from a file), the script mints ``--requests`` tokens with distinct ``jti``
beforehand, then times :meth:`Verifier.verify` on each: header and claims parsing, the client
and key lookup, the signature, the time claims and the ``jti`` store (in-process, or Redis with
``--redis URL``). Minting is not timed.

Usage: ``python bench/auth.py [--requests N] [--redis redis://127.0.0.1:6379/0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.auth.jtistore import MemoryReplay, RedisReplay, ReplayStore
from cds_service.auth.keysets import KeySets
from cds_service.auth.trust import load_trust
from cds_service.auth.verify import Verifier

AUD = "https://cds.example.org/cds-services/oncology-order-sign"


def _key(alg: str) -> tuple[Any, dict[str, Any]]:
    if alg.startswith("ES"):
        private: Any = ec.generate_private_key(ec.SECP384R1())
        public = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return private, {**public, "kid": alg.lower(), "use": "sig", "alg": alg}


def _serve(document: bytes) -> ThreadingHTTPServer:
    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _time(verifier: Verifier, tokens: list[str], warm_up: int) -> list[float]:
    for token in tokens[:warm_up]:
        await verifier.verify(token, AUD)
    timings = []
    for token in tokens[warm_up:]:
        started = time.perf_counter()
        await verifier.verify(token, AUD)
        timings.append((time.perf_counter() - started) * 1e6)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed calls per algorithm")
    parser.add_argument("--warm-up", type=int, default=100)
    parser.add_argument("--redis", help="time the jti store in this Redis (default: in-process)")
    return asyncio.run(_bench(parser.parse_args()))


async def _bench(args: argparse.Namespace) -> int:
    """Everything on one event loop: the Redis client's connections belong to it."""
    es_private, es_jwk = _key("ES384")
    rs_private, rs_jwk = _key("RS384")
    server = _serve(json.dumps({"keys": [es_jwk]}).encode())
    jku = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "rs.jwks.json").write_text(json.dumps({"keys": [rs_jwk]}))
        trust = Path(folder) / "trust.yaml"
        trust.write_text(
            f"clients:\n  - iss: https://es.example.org\n    jku: [{jku}]\n"
            "  - iss: https://rs.example.org\n    jwks_file: rs.jwks.json\n"
        )
        clients = load_trust(trust)
    replay: ReplayStore = (
        RedisReplay(args.redis, f"bench-auth-{uuid.uuid4().hex}:") if args.redis else MemoryReplay()
    )
    verifier = Verifier(clients, KeySets(600), replay, 60)
    print(f"jti store: {'Redis ' + args.redis if args.redis else 'in-process'}; JWKS cached")
    print(f"{'algorithm':<10} {'p50 µs':>8} {'mean µs':>8} {'p99 µs':>8}")
    for alg, private, iss in (
        ("ES384", es_private, "https://es.example.org"),
        ("RS384", rs_private, "https://rs.example.org"),
    ):
        now = int(time.time())
        tokens = [
            jwt.encode(
                {"iss": iss, "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex},
                private,
                algorithm=alg,
                headers={"kid": alg.lower(), "typ": "JWT"},
            )
            for _ in range(args.requests + args.warm_up)
        ]
        timings = await _time(verifier, tokens, args.warm_up)
        p99 = statistics.quantiles(timings, n=100)[98]
        print(
            f"{alg:<10} {statistics.median(timings):>8.0f} {statistics.fmean(timings):>8.0f} "
            f"{p99:>8.0f}"
        )
    await replay.aclose()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
