"""The trust file (``CDS_TRUST_FILE``): the CDS clients this service answers, one entry each.

.. code-block:: yaml

    clients:
      - iss: https://ehr.example.org
        jku: [https://ehr.example.org/.well-known/jwks.json]  # JWKS URLs this client may name
        jwks_file: keys/ehr-example.jwks.json                  # or keys exchanged out of band
        algorithms: [ES384, RS384]                             # the default

It is read once at start-up, and every problem is reported with its line, as for rule files,
so that an integration engineer never finds out at the first call from the EHR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from ..protocol.yamlfile import RuleFileError, YamlList, YamlMap, load_yaml
from .keysets import VerifyKey, parse_jwks

SIGNING_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)
"""The asymmetric JWS algorithms a client may be allowed; never ``none``, never HS*."""
DEFAULT_ALGORITHMS = ("ES384", "RS384")
"""The algorithms CDS Hooks recommends, allowed when a client's entry names none."""
_FIELDS = frozenset({"iss", "jku", "jwks_file", "algorithms"})


@dataclass(frozen=True)
class TrustedClient:
    """One CDS client: its issuer, the JWKS URLs it may name, its out-of-band keys."""

    iss: str
    jku: tuple[str, ...] = ()
    keys: Mapping[str, VerifyKey] = field(default_factory=dict, repr=False)
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS


class TrustFileInvalid(Exception):
    """The trust file has problems; each names its line."""

    def __init__(self, problems: list[RuleFileError]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_trust(path: Path) -> dict[str, TrustedClient]:
    """Every client of the trust file by ``iss``; any problem raises :class:`TrustFileInvalid`."""
    try:
        document = load_yaml(path)
    except RuleFileError as error:
        raise TrustFileInvalid([error]) from None
    problems: list[RuleFileError] = []
    entries = document.get("clients")
    if not isinstance(entries, YamlList) or not entries:
        line = document.line_of("clients")
        raise TrustFileInvalid([RuleFileError(path, "'clients' must list at least one", line)])
    clients: dict[str, TrustedClient] = {}
    for index, entry in enumerate(entries):
        line = entries.line_of(index)
        if not isinstance(entry, YamlMap):
            problems.append(RuleFileError(path, "a client is a mapping with 'iss'", line))
            continue
        try:
            client = _client(path, entry)
        except RuleFileError as error:
            problems.append(error)
            continue
        if client.iss in clients:
            problems.append(RuleFileError(path, f"iss {client.iss} is listed twice", line))
        clients[client.iss] = client
    if problems:
        raise TrustFileInvalid(problems)
    return clients


def _client(path: Path, entry: YamlMap) -> TrustedClient:
    for key in entry:
        if key not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise RuleFileError(path, f"unknown field {key!r} (known: {known})", entry.line_of(key))
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        message = "'iss' must be the client's issuer, as its tokens write it"
        raise RuleFileError(path, message, entry.line_of("iss"))
    jku = _strings(path, entry, "jku", ())
    for url in jku:
        if not _is_url(url):
            raise RuleFileError(path, f"jku {url!r} is not an http(s) URL", entry.line_of("jku"))
    algorithms = _strings(path, entry, "algorithms", DEFAULT_ALGORITHMS)
    for name in algorithms:
        if name not in SIGNING_ALGORITHMS:
            allowed = ", ".join(sorted(SIGNING_ALGORITHMS))
            message = f"algorithm {name!r} is not allowed (asymmetric only: {allowed})"
            raise RuleFileError(path, message, entry.line_of("algorithms"))
    keys: dict[str, VerifyKey] = {}
    if "jwks_file" in entry:
        keys = _jwks_file(path, entry)
    if not jku and not keys:
        raise RuleFileError(path, f"client {iss} needs 'jku' or 'jwks_file'", entry.line)
    return TrustedClient(iss, jku, keys, algorithms)


def _jwks_file(path: Path, entry: YamlMap) -> dict[str, VerifyKey]:
    """The keys of ``jwks_file``, a path relative to the trust file (or absolute)."""
    line = entry.line_of("jwks_file")
    name = entry["jwks_file"]
    if not isinstance(name, str) or not name:
        raise RuleFileError(path, "'jwks_file' must be a file name", line)
    try:
        return parse_jwks(orjson.loads((path.parent / name).read_bytes()))
    except OSError as error:
        raise RuleFileError(
            path, f"jwks_file {name}: cannot read: {error.strerror}", line
        ) from None
    except (orjson.JSONDecodeError, ValueError) as error:
        raise RuleFileError(path, f"jwks_file {name}: {error}", line) from None


def _strings(path: Path, entry: YamlMap, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value: Any = entry.get(key, default)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise RuleFileError(path, f"'{key}' must be a list of text", entry.line_of(key))
    return tuple(value)


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.netloc) and parts.scheme in ("http", "https")
