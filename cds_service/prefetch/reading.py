"""A prefetched resource read as the rules read it, each member shaped when first read.

Every resource used to be shape-checked (``protocol/shape.py``) and walked for zone-less times
(``zones.py``) on arrival, the 45 vitals and labs no rule reads included: most of a first call's
CPU. :class:`AsRead` does the same work member by member, on first read, so what no reader looks
at costs nothing, and what one does is exactly what the eager walk gave:

- a member read through the mapping (``get``, ``[]``, ``in``) is shaped and zoned first, and its
  problems and notes are kept;
- validation shapes the members it takes, those a reader reads (``fhir.UNREAD`` are not), and
  only their problems make the resource invalid (:meth:`AsRead.shaped`): a broken narrative
  no longer makes a genotype unreadable, and a narrative is not walked to validate a result;
- iteration, comparison and copies see the whole resource shaped (:meth:`AsRead.complete`);
  the notes a card gives for a resource it cites are of the members a reader reads;
- ``problems`` lists what the members read so far have: a result whose ``code`` is a number
  is still "could not be read" (``facts/grouped.py``), because the readers look at the members
  that say what a resource is; a broken member no reader reads is no longer reported.

A resource read in full is walked once, each member once: what a reader read first is not
walked again. A record sent again is not read again at all (``ruleset/remembered.py``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ..protocol.fhir import NO_ID, content_digest, read_names, reference_of
from ..protocol.shape import Shaped, member, summary, text_check
from .zones import zoned_member, zoneless


class _Found:
    """What reading one member found: its problems, zone-less times and repairs."""

    __slots__ = ("problems", "repairs", "zone_notes")

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.zone_notes: list[str] = []
        self.repairs: list[str] = []


class _ReadAsSent(set[tuple[str, str, bytes]]):
    """Members known to read exactly as sent, by resource type, name and exact JSON text.

    Whether a member has a zone-less time or a shape problem depends on nothing else, and most
    members that are objects (a code, a reference, a unit) recur across resources and calls:
    one look-up instead of two walks. Bounded: emptied when full. Members of over 1 kB are
    walked. A set itself, so that the look-up every first read makes is the set's own. A text
    is not kept here but tested (:func:`_text_as_sent`): the times of a new patient's results
    are all new, and would crowd out the codes.
    """

    LONGEST = 1024
    CAPACITY = 16_384

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def key(self, kind: str, name: Any, item: Any) -> tuple[str, str, bytes] | None:
        text = json_text(item) if isinstance(name, str) else None
        return None if text is None else self.text_key(kind, name, text)

    def text_key(self, kind: str, name: str, text: bytes) -> tuple[str, str, bytes] | None:
        """The key of a member sent as ``text``, the JSON its caller has written."""
        return (kind, name, text) if len(text) <= self.LONGEST else None

    def add(self, key: tuple[str, str, bytes]) -> None:
        with self._lock:
            if len(self) >= self.CAPACITY:
                self.clear()
            super().add(key)


_AS_SENT = _ReadAsSent()


def json_text(value: Any) -> bytes | None:
    """``value``'s exact JSON text; None for what JSON cannot hold (a test's own value)."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return None


def _text_as_sent(kind: str, name: Any, text: str) -> bool:
    """Whether a text member reads as sent: it fits where it is sent, and is no time without a
    zone (``shape.text_check``, ``zones.zoneless``)."""
    if type(name) is not str:
        return False
    check = text_check(kind, name)
    if check is None:
        return False
    return (check is True or bool(check(text))) and not zoneless(text)


@lru_cache(maxsize=256)
def _type_as_sent(kind: str) -> bool:
    """Whether a ``resourceType`` reads as sent: the same for every resource of the type, and
    every resource is asked. Bounded: the type is the client's text."""
    return _text_as_sent(kind, "resourceType", kind)


_NOTHING_FOUND: Mapping[str, _Found] = MappingProxyType({})
"""What a resource whose members have all read as sent has found: nothing (one for all)."""
_ABSENT = object()


class AsRead(Shaped):
    """``raw`` as the rules read it in ``zone``; members are shaped on first read.

    As a mapping it holds the members shaped so far and kept, until :meth:`complete`: a
    chart's resources are many and each is read in a few members, so a resource read costs
    no copy of what is sent, and a member that reads as sent no record of having been read.
    """

    __slots__ = ("_found", "_kind", "_raw", "_troubled", "_whole", "_zone")

    def __init__(self, raw: Mapping[str, Any], zone: ZoneInfo):  # none is handed out unshaped
        self._raw, self._zone = raw, zone
        kind = raw.get("resourceType")
        self._kind = str(kind)
        if type(kind) is str and _type_as_sent(kind):
            dict.__setitem__(self, "resourceType", kind)  # every reader's first question
        self._whole = False
        self._troubled = False
        """Whether a member read so far has a problem: most never do, and every call asks."""
        self._found: Mapping[str, _Found] = _NOTHING_FOUND
        """What each member shaped had to say (its problems, notes and repairs), of those with
        something to say or left out; a member kept as sent is in the mapping only."""
        self.validated = None
        self.repairs = ()  # each member's repairs are told in the notes, as it is read

    # --- a member on first read ----------------------------------------------------------------

    def _shape(self, name: Any, key: tuple[str, str, bytes] | None = None) -> None:
        """``key``: the member's :data:`_AS_SENT` key, when the caller has made it."""
        if (
            self._whole
            or dict.__contains__(self, name)
            or name in self._found
            or name not in self._raw
        ):
            return
        sent = self._raw[name]
        if type(sent) is str:
            key = None
            if _text_as_sent(self._kind, name, sent):
                dict.__setitem__(self, name, sent)
                return
        else:
            key = key or _AS_SENT.key(self._kind, name, sent)
            if key is not None and key in _AS_SENT:
                dict.__setitem__(self, name, sent)  # read as sent
                return
        found = _Found()
        item = zoned_member(name, sent, self._zone, found.zone_notes)
        kept, value = member(self._kind, name, item, found.problems, found.repairs)
        if kept:
            dict.__setitem__(self, name, value)
        if not kept or found.zone_notes or found.problems or found.repairs:
            if self._found is _NOTHING_FOUND:
                self._found = {}
            self._found[name] = found  # type: ignore[index]
            self._troubled = self._troubled or bool(found.problems)
        elif key is not None:
            _AS_SENT.add(key)

    def __getitem__(self, name: Any) -> Any:
        self._shape(name)
        return dict.__getitem__(self, name)

    def get(self, name: Any, default: Any = None) -> Any:
        value = dict.get(self, name, _ABSENT)  # every reader asks for the type and the code
        if value is not _ABSENT:
            return value
        sent = self._raw.get(name, _ABSENT)
        if sent is _ABSENT:
            return default
        if type(sent) is str and _text_as_sent(self._kind, name, sent):
            dict.__setitem__(self, name, sent)  # as most first reads are
            return sent
        self._shape(name)  # not read yet, or left out
        return dict.get(self, name, default)

    def sent_text(self, name: str) -> bytes | None:
        """The exact JSON text member ``name`` was sent as (``null`` when absent), unread;
        None for what JSON cannot hold. In one record, members of one type sent as one text
        read alike, so readers group resources by it (``PatientRecord.by_code``)."""
        return json_text(self._raw.get(name))

    def read_as_sent(self, name: str, text: bytes | None) -> tuple[Any, bool]:
        """Member ``name`` as read (``get``), and whether it reads as sent, with nothing to
        say of it (no problem, zone or repair): then so does any member of this type sent as
        the same ``text`` (:meth:`sent_text`, which the read does not write again)."""
        key = None if text is None else _AS_SENT.text_key(self._kind, name, text)
        self._shape(name, key)
        return dict.get(self, name), name not in self._found

    def __contains__(self, name: object) -> bool:
        self._shape(name)
        return dict.__contains__(self, name)

    # --- the whole resource ----------------------------------------------------------------------

    def complete(self) -> AsRead:
        """Every member shaped and zoned: the problems and notes of the whole resource, in the
        order of its members, as :func:`~..protocol.shape.conform` gives them."""
        if not self._whole:
            for name in self._raw:
                self._shape(name)
            in_order = [
                (n, dict.__getitem__(self, n)) for n in self._raw if dict.__contains__(self, n)
            ]
            dict.clear(self)
            dict.update(self, in_order)
            self._whole = True
        return self

    def names(self) -> list[str]:
        """The names of the members as sent, none shaped for asking."""
        return list(self._raw)

    def shaped(self, names: Sequence[str]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The members named that are kept, each shaped first, and the problems of them all in
        the order sent: the members not named are left as they are."""
        kept = {}
        for name in names:
            self._shape(name)
            value = dict.get(self, name, _ABSENT)
            if value is not _ABSENT:
                kept[name] = value
        if not self._troubled:  # as most are: no problem to put in order
            return kept, ()
        wanted = set(names)
        found = (each for name, each in self._in_order() if name in wanted)
        return kept, summary([problem for each in found for problem in each.problems])

    def _in_order(self) -> Iterator[tuple[str, _Found]]:
        """What the members shaped had to say, in the order sent."""
        return ((name, self._found[name]) for name in self._raw if name in self._found)

    @property
    def problems(self) -> tuple[str, ...]:  # type: ignore[override]
        """The problems of the members read so far; of every member once complete."""
        if not self._troubled:
            return ()
        return summary([problem for _, found in self._in_order() for problem in found.problems])

    @property
    def notes(self) -> tuple[str, ...]:
        """How the resource was read where it was not sent as FHIR requires: the zone-less
        times, then the repairs, of the members a reader reads. How a narrative or an
        identifier was read changes nothing a card says, so a card does not say it."""
        read = read_names(self._raw)
        for name in read:
            self._shape(name)
        members = [self._found[name] for name in read if name in self._found]
        return (
            *(n for f in members for n in f.zone_notes),
            *(n for f in members for n in f.repairs),
        )

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


class Notes(Mapping[str, tuple[str, ...]]):
    """Per reference (``Type/id``), how the resources under it were read (``read_as``).

    Asked only for the resources a card cites, so only those are walked in full here.
    """

    def __init__(self, resources: list[AsRead]):
        self._resources = resources
        self._index: dict[str, list[tuple[int, AsRead]]] | None = None

    def _by_id(self) -> dict[str, list[tuple[int, AsRead]]]:
        """The resources by the end of their reference (``reference_of``): the id as sent, or
        ``NO_ID``. Made once per record whose cards cite a resource, over all of them, so it
        costs a look-up per resource; the type is told apart when asked."""
        if self._index is None:
            self._index = {}
            for position, resource in enumerate(self._resources):
                ident = resource._raw.get("id")
                ident = ident if isinstance(ident, str) and ident else NO_ID
                self._index.setdefault(ident, []).append((position, resource))
        return self._index

    def _under(self, reference: str) -> list[AsRead]:
        """The resources whose reference as sent, as cards have always looked notes up, is
        ``reference``, in the order sent: the id is what follows one of its slashes (a type as
        sent may hold one)."""
        index = self._by_id()
        parts = reference.split("/")
        ends = ("/".join(parts[i:]) for i in range(1, len(parts)))
        found = [
            each
            for end in ends
            for each in index.get(end, ())
            if reference_of(each[1]._raw) == reference
        ]
        return [resource for _, resource in sorted(found, key=itemgetter(0))]

    def __getitem__(self, reference: str) -> tuple[str, ...]:
        notes = tuple(n for r in self._under(reference) for n in r.notes)
        if not notes:
            raise KeyError(reference)
        return notes

    def __iter__(self) -> Iterator[str]:
        references = dict.fromkeys(reference_of(r._raw) for r in self._resources)
        return (reference for reference in references if reference in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def content_of(patient_id: str, zone: ZoneInfo, sent: list[Mapping[str, Any]]) -> bytes | None:
    """A digest of a record's resources and orders as sent (in order), its patient and zone."""
    return content_digest({"patient": patient_id, "zone": zone.key, "read": sent})
