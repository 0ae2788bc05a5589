"""The JSON shape of a FHIR resource checked against the R4B model, before any rule reads it.

Rules read resources as raw JSON first (to find the few worth validating), so a member of the
wrong JSON type, such as a number for ``status`` or an object for ``coding``, must never reach
them. :func:`conform` walks a resource along its model's fields (cardinality and type come from
``fhir.resources``, not from a hand-written list) and:

- reads a lone object (or value) sent for a 0..* member as a list of one, as real clients send
  them (the CDS Hooks Sandbox sends ``reasonCode`` so), and says so in ``repairs``: a note for
  the cards, never a lost check;
- leaves out a member of the wrong JSON type (keeps a text that is not a date where a date
  belongs: it is still text to a raw reader) and records why in ``problems``. The resource is
  then not valid FHIR: :func:`cds_service.protocol.fhir.validate` reports it, so the check that
  needed it says it could not run, while what is left can still say which check that was.

A member the model does not know (a later FHIR version's, a typo) is a problem too, as the
model would say: a Coding sent as ``{"a": 1}`` must not pass as "no code" to a raw reader.
Primitive extensions (``_status``) and contained resources are left to the model.
"""

from __future__ import annotations

import datetime
import decimal
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any, Literal

from fhir.resources.R4B import get_fhir_model_class

_PROBLEMS_KEPT = 3
"""Problems named per resource; the rest are counted."""
_PROBLEM_MAX = 160
"""Characters of one problem."""
_DEPTH = 40
"""Elements nested deeper than this (extensions of extensions...) are left out as a problem:
no rule reads that deep, and the walk must not meet Python's recursion limit."""


class Shaped(dict[str, Any]):
    """A resource after :func:`conform`; ``problems`` lists members left out for their type.

    Slotted, as :class:`~cds_service.prefetch.reading.AsRead` is: a chart's resources are each
    one, a thousand in a large one, and a dictionary of attributes doubled the cost of making
    and freeing each.
    """

    __slots__ = ("problems", "repairs", "validated")

    def __init__(
        self, members: Mapping[str, Any], problems: tuple[str, ...], repairs: tuple[str, ...]
    ):
        super().__init__(members)
        self.problems, self.repairs = problems, repairs
        self.validated: Any = None
        """What validation made of this resource (``fhir.validate``): several readers of one
        call read it, and it is validated once."""

    def complete(self) -> Shaped:
        """Every member shaped: this one is (``prefetch/reading.py`` shapes on first read)."""
        return self

    def names(self) -> list[str]:
        """The names of the members, none shaped for asking."""
        return list(dict.keys(self))

    def shaped(self, names: Sequence[str]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The members named that are kept, and their problems: here, conformed whole, the
        problems of every member."""
        return {name: self[name] for name in names if name in self}, self.problems


@lru_cache(maxsize=1024)
def _fields(model_name: str) -> Mapping[str, tuple[bool, Any]] | None:
    """Per JSON member name: (is a list, element type: a model name or a Python type).

    Bounded: ``resourceType`` is the client's text.
    """
    try:
        model = get_fhir_model_class(model_name)
    except (KeyError, ValueError):
        return None
    return _fields_of(model)


@cache
def _fields_of(model: Any) -> Mapping[str, tuple[bool, Any]]:
    found: dict[str, tuple[bool, Any]] = {}
    for name, field in model.model_fields.items():
        many, element = _element(field.annotation)
        found[field.alias or name] = (many, element)  # element None: any value (contained)
    return found


def _element(annotation: Any) -> tuple[bool, Any]:
    many = False
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (list, typing.List):  # noqa: UP006 - the models spell it so
            many, annotation = True, args[0]
        elif origin is not None and len(args) == 1:  # Optional[...]
            annotation = args[0]
        elif origin is typing.Union and str in args:  # Url, Uri: Union[AnyUrl, str]
            annotation = str
        else:
            break
    if isinstance(annotation, type) and annotation.__name__.endswith("Type"):
        name = annotation.__name__.removesuffix("Type")
        return many, None if name in ("Resource", "") else name
    return many, annotation if isinstance(annotation, type) else None


_DATE = r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?"
_CALENDAR = {
    datetime.date: re.compile(_DATE),
    datetime.datetime: re.compile(
        _DATE + r"(?:T(?:[01]\d|2[0-3]):[0-5]\d"  # groups that capture nothing: a fifth faster
        r"(?::(?:[0-5]\d|60)(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)?"
    ),
}
"""The calendar part of FHIR's date and dateTime patterns, lenient about what the model (or a
later repair) decides: seconds and the zone. A month 13 is caught here, where it costs a regular
expression instead of a model validation (a 1 MB record of broken dates must stay cheap)."""


def _fits(value: Any, element: Any) -> bool:
    if isinstance(element, str):
        return isinstance(value, dict)
    if element is bool:
        return isinstance(value, bool)
    if element is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if element in (float, decimal.Decimal):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if element in _CALENDAR:
        return isinstance(value, str) and _CALENDAR[element].fullmatch(value) is not None
    if element in (str, datetime.time, bytes):
        return isinstance(value, str)
    return True


def conform(resource: Mapping[str, Any]) -> Shaped:
    """``resource`` with lone items read as lists and wrongly typed members left out."""
    problems: list[str] = []
    repairs: list[str] = []
    kind = resource.get("resourceType")
    members = _walk(resource, str(kind), "", problems, repairs, 0)
    return Shaped(members, summary(problems), tuple(repairs))


def summary(problems: list[str]) -> tuple[str, ...]:
    """The problems as told: a path quotes the client's member names, so each problem is cut,
    as is their number."""
    cut = [p if len(p) <= _PROBLEM_MAX else p[: _PROBLEM_MAX - 1] + "…" for p in problems]
    if len(cut) > _PROBLEMS_KEPT:
        cut = [*cut[:_PROBLEMS_KEPT], f"and {len(cut) - _PROBLEMS_KEPT} more problems"]
    return tuple(cut)


def member(
    kind: str, name: str, item: Any, problems: list[str], repairs: list[str]
) -> tuple[bool, Any]:
    """One top-level member of a resource of type ``kind``, as :func:`conform` reads it:
    ``(kept, value)``, with what was found added to ``problems`` and ``repairs``."""
    fields = _fields(kind)
    if fields is None:
        return True, item
    value = _member(fields, kind, name, item, "", problems, repairs, 0)
    return value is not _LEFT_OUT, value


@lru_cache(maxsize=4096)
def text_check(kind: str, name: str) -> Callable[[str], object] | Literal[True] | None:
    """How to tell that a text sent as member ``name`` of a ``kind`` reads as sent, with no
    problem or repair, as :func:`member` reads it: a test true of such a text, True where any
    text does (a status, an id: no call to make), or None where none does (an object, a number
    or a list is expected there).

    Most first reads of a member are of a text (a status, a time, an id), and most of those
    texts are new to the service (the times of a new patient's results): one test instead of
    the walk. Bounded: ``kind`` and ``name`` are the client's.
    """
    fields = _fields(kind)
    spec = fields.get(name) if fields is not None else (False, None)
    if spec is None:  # not a member of the type: a problem, but for these
        return True if name.startswith("_") or name in _ALWAYS else None
    many, element = spec
    if many:  # a lone item, read as a list of one: a repair
        return None
    if element in _CALENDAR:
        return _CALENDAR[element].fullmatch
    return True if _fits("", element) else None


def _walk(
    value: Mapping[str, Any],
    model: str,
    path: str,
    problems: list[str],
    repairs: list[str],
    depth: int,
) -> dict[str, Any]:
    fields = _fields(model)
    if fields is None:
        return dict(value)
    out: dict[str, Any] = {}
    for name, item in value.items():
        kept = _member(fields, model, name, item, path, problems, repairs, depth)
        if kept is not _LEFT_OUT:
            out[name] = kept
    return out


def _member(
    fields: Mapping[str, tuple[bool, Any]],
    model: str,
    name: str,
    item: Any,
    path: str,
    problems: list[str],
    repairs: list[str],
    depth: int,
) -> Any:
    spec = fields.get(name)
    if spec is not None and spec[1] is str and type(item) is str and not spec[0]:
        return item  # a text where one is expected, as most members are: no path to write
    where = f"{path}.{name}" if path else name
    if spec is None:
        if not name.startswith("_") and name not in _ALWAYS:
            problems.append(f"{where}: not a member of {model}")
        return item
    many, element = spec
    if many and not isinstance(item, list):
        if item is None:
            return _LEFT_OUT
        repairs.append(f"{where} was sent as one item, read as a list of one")
        item = [item]
    elif not many and isinstance(item, list):
        problems.append(f"{where}: expected one value, got a list")
        return _LEFT_OUT
    if many:
        kept = [
            _one(entry, element, f"{where}[{i}]", problems, repairs, depth)
            for i, entry in enumerate(item)
        ]
        if None in item:
            problems.append(f"{where}: null in a list")
        return [entry for entry in kept if entry is not _LEFT_OUT and entry is not None]
    return _one(item, element, where, problems, repairs, depth)


_LEFT_OUT = object()
_ALWAYS = frozenset({"resourceType", "fhir_comments"})


def _one(
    value: Any, element: Any, where: str, problems: list[str], repairs: list[str], depth: int
) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if depth >= _DEPTH:
            problems.append(f"elements nested deeper than {_DEPTH} levels ({where[:60]}…)")
            return _LEFT_OUT
        if isinstance(element, str):  # an object where one is expected
            return _walk(value, element, where, problems, repairs, depth + 1)
    if not _fits(value, element):
        problems.append(f"{where}: expected {_expected(element)}, got {_json_type(value)}")
        return value if isinstance(value, str) and element in _CALENDAR else _LEFT_OUT
    return value


def _expected(element: Any) -> str:
    if element in _CALENDAR:
        return "a date" if element is datetime.date else "a date and time"
    if isinstance(element, str):
        return "an object"
    if element is bool:
        return "true or false"
    if element in (int, float, decimal.Decimal):
        return "a number"
    return "a string"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f'"{value[:40]}…"' if len(value) > 40 else f'"{value}"'
    return {dict: "an object", list: "a list"}.get(type(value), "a value")
