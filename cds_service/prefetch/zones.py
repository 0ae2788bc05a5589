"""Times sent without a zone, read in the service's zone (``CDS_TIMEZONE``) and said so.

FHIR R4 requires a zone on a dateTime or instant that has a time; EHR exports often leave it
out ("2026-09-20T08:30:00"). Refusing such a value would make a creatinine unreadable and the
carboplatin check not run; guessing silently could move a result to another day. So the time is
read in the clinic's zone, and each card that cites the resource carries a note saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

_ZONELESS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?")
"""A date and a time with no ``Z`` or offset (the seconds FHIR requires may be missing too)."""
_ZONELESS_IN_JSON = re.compile(rb'"' + _ZONELESS.pattern.encode() + rb'"')
"""The same, as a whole string of JSON text (such a string has nothing JSON escapes)."""


def with_zone(
    resource: Mapping[str, Any], zone: ZoneInfo, notes: dict[str, list[str]], reference: str
) -> Mapping[str, Any]:
    """``resource`` with each zone-less time given ``zone``; its notes under ``reference``."""
    found: list[str] = []
    repaired = _walk(resource, zone, found, "", 0)
    if found:
        notes.setdefault(reference, []).extend(found)
    return repaired if found else resource


def zoneless(text: str) -> bool:
    """Whether a text is a time without a zone: :func:`zoned_member` gives it one.

    Most texts are told by a look at a few characters, a tenth of the pattern's cost: such a
    time has its ``T`` where a full date ends, and ends in a digit of its minutes, seconds or
    fraction, so a ``Z`` at the end or a sign six from it is a zone.
    """
    if text[10:11] != "T" or text[-1:] == "Z" or text[-6:-5] in ("+", "-"):
        return False
    return _ZONELESS.fullmatch(text) is not None


def zoned_member(name: str, item: Any, zone: ZoneInfo, found: list[str]) -> Any:
    """One top-level member of a resource as :func:`with_zone` reads it; notes into ``found``.

    Most members hold no time at all: one search of the member as JSON text, in C, tells, and
    only a member with a zone-less time in it is walked.
    """
    try:
        text = orjson.dumps(item)
    except (TypeError, orjson.JSONEncodeError):  # not JSON's (a test's own value): walked
        text = None
    if text is not None and not _ZONELESS_IN_JSON.search(text):
        return item
    return _walk(item, zone, found, name, 1)


_DEPTH = 64
"""No FHIR time sits deeper than this; a client's deeper nesting is not walked (no recursion
limit to reach), and is not valid FHIR anyway (``protocol/shape.py``)."""


def _walk(value: Any, zone: ZoneInfo, found: list[str], path: str, depth: int) -> Any:
    if depth > _DEPTH:
        return value
    if isinstance(value, dict):
        return {
            k: _walk(v, zone, found, f"{path}.{k}" if path else k, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, zone, found, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, str) and zoneless(value):
        try:
            moment = datetime.fromisoformat(value).replace(tzinfo=zone)
        except ValueError:  # not a real date ("2026-13-40T..."): validation will say so
            return value
        offset = moment.strftime("%z")
        zoned = (value if value.count(":") == 2 else f"{value}:00") + f"{offset[:3]}:{offset[3:]}"
        found.append(
            f"{path} {value} has no time zone (FHIR R4 requires one); "
            f"read as {zoned} ({zone.key}, CDS_TIMEZONE)"
        )
        return zoned
    return value
