"""Every log line of a test run, kept to check that none names a patient or carries a token.

``conftest.py`` starts the watch when pytest starts and checks it when the run ends: a line
that holds a fixture patient's id or name, or a test token, fails the run, whichever test
wrote it. (A fixture's file name may appear: a rule file's example names its Bundle.)
``tests/test_observability.py`` checks its own calls against the same list."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.observability import logformat

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = sorted((ROOT / "fixtures/fhir/requests").glob("*.json"))
BEARER = "eyJhbGciOiJFUzM4NCJ9.client-jwt-never-to-be-logged.sig"
"""A client JWT the tests send; see also ``tests.servers.TOKEN`` for the FHIR server's."""

_lines = io.StringIO()


def start() -> None:
    """Keep every line the service's loggers write, at DEBUG, as ``serve`` formats it."""
    logger = logging.getLogger("cds_service")
    logger.addHandler(logformat.handler("text", _lines))
    logger.setLevel(logging.DEBUG)


@cache
def secrets() -> frozenset[str]:
    """Patient ids and names in the request fixtures, and the test tokens.

    A fixture patient whose id is the id of the rule it shows (``braf-v600e-colorectal-
    dabrafenib``) is left out: log lines name the rules that fired, which is what they are for.
    """
    from tests.servers import TOKEN

    found: set[str] = {BEARER, TOKEN}
    for path in REQUESTS:
        body = json.loads(path.read_text(encoding="utf-8"))
        found.add(body["context"].get("patientId", ""))
        for value in (body.get("prefetch") or {}).values():
            for resource in _resources(value):
                if resource.get("resourceType") == "Patient":
                    found.add(resource.get("id", ""))
                    for name in resource.get("name", []):
                        found.update([name.get("family", ""), *name.get("given", [])])
    return frozenset(s for s in found if len(s) >= 3) - _rule_ids()


def _rule_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "rules").rglob("*.yaml"):
        ids.update(re.findall(r"^  - id: ([\w.-]+)", path.read_text(encoding="utf-8"), re.M))
    return ids


def _resources(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        yield from (e.get("resource", {}) for e in value.get("entry", []))
    elif isinstance(value, dict):
        yield value


def leaks(text: str) -> list[str]:
    """The lines of ``text`` that hold a secret, each with the secret it holds."""
    found = []
    for line in text.splitlines():
        for secret in secrets():
            if secret in line and re.search(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", line):
                found.append(f"{secret!r} in: {line[:300]}")
    return found


def run_leaks() -> list[str]:
    return leaks(_lines.getvalue())
