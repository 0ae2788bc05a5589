"""A prefetched resource read as the rules read it, each member shaped when first read.

Every resource used to be shape-checked (``protocol/shape.py``) and walked for zone-less times
(``zones.py``) on arrival, the 45 vitals and labs no rule reads included: most of a first call's
CPU. :class:`AsRead` does the same work member by member, on first read, so what no reader looks
at costs nothing, and what one does is exactly what the eager walk gave:

- a member read through the mapping (``get``, ``[]``, ``in``) is shaped and zoned first, and its
  problems and notes are kept;
- validation, iteration, comparison and copies see the whole resource shaped
  (:meth:`AsRead.complete`), as do the notes a card gives for a resource it cites;
- ``problems`` lists what the members read so far have: a resource whose ``code`` is a number
  is still "could not be read" (``facts/grouped.py``), because every reader looks at ``code``.

The whole-resource walk of a resource read in full is kept per content (a digest of the exact
JSON sent, with the service's zone), so an EHR resending a patient's genotypes and Conditions
does not have them walked again; never keyed by id.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..protocol.fhir import content_digest, reference_of
from ..protocol.shape import Shaped, conform, member, summary
from .zones import may_lack_zones, zoned_member

_Walked = tuple[Shaped, tuple[str, ...]]
"""A resource shaped in full, and its notes (zone-less times, then repairs)."""


class AsRead(Shaped):
    """``raw`` as the rules read it in ``zone``; members are shaped on first read."""

    def __init__(self, raw: Mapping[str, Any], zone: ZoneInfo):
        super().__init__(raw)  # members as sent until read; none is handed out unshaped
        self._raw, self._zone = raw, zone
        self._kind = str(raw.get("resourceType"))
        self._pending = set(raw)
        self._found: list[str] = []
        self._zone_notes: list[str] = []
        self._repairs: list[str] = []
        self._whole: _Walked | None = None

    # --- a member on first read ----------------------------------------------------------------

    def _shape(self, name: Any) -> None:
        if self._whole is not None or name not in self._pending:
            return
        self._pending.discard(name)
        item = zoned_member(name, self._raw[name], self._zone, self._zone_notes)
        kept, value = member(self._kind, name, item, self._found, self._repairs)
        if kept:
            dict.__setitem__(self, name, value)
        else:
            dict.__delitem__(self, name)

    def __getitem__(self, name: Any) -> Any:
        self._shape(name)
        return dict.__getitem__(self, name)

    def get(self, name: Any, default: Any = None) -> Any:
        try:
            self._shape(name)
        except TypeError:  # an unhashable name, as dict.get raises it
            return dict.get(self, name, default)
        return dict.get(self, name, default)

    def __contains__(self, name: object) -> bool:
        self._shape(name)
        return dict.__contains__(self, name)

    # --- the whole resource ----------------------------------------------------------------------

    def complete(self) -> AsRead:
        """Every member shaped and zoned, with the problems and notes of the whole resource."""
        if self._whole is None:
            self._whole = _walked(self._raw, self._zone)
            dict.clear(self)
            dict.update(self, self._whole[0])
            self._pending.clear()
        return self

    @property
    def problems(self) -> tuple[str, ...]:  # type: ignore[override]
        """The problems of the members read so far; of every member once complete."""
        return self._whole[0].problems if self._whole is not None else summary(self._found)

    @property
    def notes(self) -> tuple[str, ...]:
        """How the resource was read where it was not sent as FHIR requires, all members."""
        return self.complete()._whole[1]  # type: ignore[index]

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self.complete())

    def __len__(self) -> int:
        return dict.__len__(self.complete())

    def keys(self):  # type: ignore[no-untyped-def]
        return dict.keys(self.complete())

    def values(self):  # type: ignore[no-untyped-def]
        return dict.values(self.complete())

    def items(self):  # type: ignore[no-untyped-def]
        return dict.items(self.complete())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AsRead):
            other.complete()
        return dict.__eq__(self.complete(), other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return dict.__repr__(self.complete())

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.complete())

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self.complete()), memo)

    def __reduce__(self) -> Any:
        return (dict, (dict(self.complete()),))


def _whole_first(name: str) -> Any:
    """A change to a resource as read applies to it shaped in full (no reader changes one)."""
    method = getattr(dict, name)

    def changed(self: AsRead, *args: Any, **kwargs: Any) -> Any:
        return method(self.complete(), *args, **kwargs)

    changed.__name__ = name
    return changed


for _name in ("__setitem__", "__delitem__", "pop", "popitem", "setdefault", "update", "clear"):
    setattr(AsRead, _name, _whole_first(_name))


def _walked(raw: Mapping[str, Any], zone: ZoneInfo) -> _Walked:
    try:
        content: bytes | None = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        content = None
    key = None
    if content is not None:
        key = hashlib.blake2b(content, digest_size=20).digest() + zone.key.encode()
        found = _WALKED.get(key)
        if found is not None:
            _WALKED.move_to_end(key)
            return found
    notes: list[str] = []
    zoned = raw
    if content is None or may_lack_zones(content):
        zoned = {name: zoned_member(name, item, zone, notes) for name, item in raw.items()}
    shaped = conform(zoned)
    walked = (shaped, (*notes, *shaped.repairs))
    if key is not None:
        _WALKED[key] = walked
        if len(_WALKED) > _WALKED_KEPT:
            _WALKED.popitem(last=False)
    return walked


_WALKED: OrderedDict[bytes, _Walked] = OrderedDict()
"""Resources read in full, by the digest of their exact content and the zone, most recently used
last. The shaped resources are shared between calls and only read."""
_WALKED_KEPT = 4096


class Notes(Mapping[str, tuple[str, ...]]):
    """Per reference (``Type/id``), how the resources under it were read (``read_as``).

    Asked only for the resources a card cites, so only those are walked in full here.
    """

    def __init__(self, resources: list[AsRead]):
        self._resources = resources
        self._index: dict[str, list[AsRead]] | None = None

    def _by_reference(self) -> dict[str, list[AsRead]]:
        if self._index is None:
            self._index = {}
            for resource in self._resources:
                self._index.setdefault(reference_of(resource), []).append(resource)
        return self._index

    def __getitem__(self, reference: str) -> tuple[str, ...]:
        notes = tuple(n for r in self._by_reference().get(reference, ()) for n in r.notes)
        if not notes:
            raise KeyError(reference)
        return notes

    def __iter__(self) -> Iterator[str]:
        return (reference for reference in self._by_reference() if reference in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def content_of(patient_id: str, zone: ZoneInfo, read: list[AsRead]) -> bytes | None:
    """A digest of a record's resources and orders as sent (in order), its patient and zone."""
    return content_digest({"patient": patient_id, "zone": zone.key, "read": [r._raw for r in read]})
