"""fhir_core's model validators without the work they redo for every element.

Every FHIR model instance fhir_core builds runs two validators of its base class. One
(``reject_null_complex_elements``) walks every field of the class, a hundred for an
Observation, to find which are lists of complex types, and looks for a null in each; the other
(``validate_after_model_construction``, run twice per instance, since fhir_core hands each
element it built to its own schema again) asks the class afresh which fields are required and
which are choices. None of that depends on the element, and it was some 40 % of validating the
resources the rules read (``bench/README.md``).

:func:`install` makes the first look only at the lists sent, and the second at tables of the
required and choice fields built once per class. Both hand over to fhir_core's own code the
moment they find anything it might refuse, so that every refusal is fhir_core's, word for word:
what they accept and refuse is what fhir_core accepts and refuses. ``tests/test_fhircore.py``
validates every distinct fixture resource, and each broken in the ways these validators catch,
with and without them, and compares the outcomes.

A third hop is fhir_core's way to each element: every element of a resource (a code, each of
its codings, a quantity, a reference) is validated by ``FhirBase.fhir_model_validator``, which
hands it to its class's ``model_validate``; the class's ``__init__`` is fhir_core's own, so
pydantic calls it, and it pops a ``resourceType`` the element does not have and hands the
element to the class's schema once more. :func:`element` validates such an element with the
class's own schema directly, and :func:`validate` a resource of its class's own
``resourceType``: a third of validating a resource. An element that carries a ``resourceType``
or ``resource_type``, or a resource named otherwise than its class (which that ``__init__``
takes out, or refuses), takes fhir_core's way.

The validators are compiled into every model's schema when fhir.resources defines it, so they
cannot be replaced as attributes; their code is. That is done only on the fhir_core release it
was written against (:data:`WRITTEN_FOR`): with any other the models are left as they are,
slower and as correct, and the test that pins the release fails until this is checked again.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from types import FunctionType
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic_core import SchemaError, SchemaValidator

WRITTEN_FOR = frozenset({"1.1.12"})
"""The fhir_core releases whose validators these were checked against."""

_REJECT_NULLS: FunctionType = FHIRAbstractModel.reject_null_complex_elements.__func__  # type: ignore[attr-defined]
_AFTER: FunctionType = FHIRAbstractModel.validate_after_model_construction  # type: ignore[assignment]


def _copy(function: FunctionType) -> FunctionType:
    """A function with ``function``'s code as it is now, which a later swap leaves alone."""
    copied = FunctionType(
        function.__code__,
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copied.__kwdefaults__ = function.__kwdefaults__
    return copied


_ELEMENT: FunctionType = FhirBase.fhir_model_validator.__func__  # type: ignore[attr-defined]
_ORIGINAL = {_REJECT_NULLS: _copy(_REJECT_NULLS), _AFTER: _copy(_AFTER), _ELEMENT: _copy(_ELEMENT)}
"""fhir_core's own code for each validator: what the fast path hands over to."""

Choices = tuple[tuple[tuple[str, ...], bool], ...]
"""Each choice group's field names, and whether one of them is required."""

_after_checks: dict[type, tuple[tuple[str, ...], Choices] | None] = {}


def _required_and_choices(model: FHIRAbstractModel) -> tuple[tuple[str, ...], Choices] | None:
    """The required fields and the choice groups (with whether one is required) of the model's
    class, as fhir_core reads them; None where its checks are not the base class's own, or a
    table would not hold what fhir_core finds (then fhir_core's code runs every time)."""
    cls = type(model)
    for name in ("_validate_required_primitive_elements", "_validate_one_of_many"):
        if getattr(cls, name) is not getattr(FHIRAbstractModel, name):
            return None
    try:
        aliases = cls.get_alias_mapping()
        required = tuple(aliases[name] for name, _ in model.get_required_fields())
        fields = cls.model_fields
        choices = []
        for prefix, group in model.get_one_of_many_fields().items():
            extra = fields[group[0]].json_schema_extra
            if not isinstance(extra, dict) or extra["one_of_many"] != prefix:
                return None
            choices.append((tuple(group), extra["one_of_many_required"] is True))
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return required, tuple(choices)


_direct: dict[type, SchemaValidator | None] = {}
_UNKNOWN = object()


def _direct_for(model_klass: type[FHIRAbstractModel]) -> SchemaValidator | None:
    """:func:`_direct_validator`, made once per class (a race makes it twice, harmlessly)."""
    direct = _direct.get(model_klass, _UNKNOWN)
    if direct is _UNKNOWN:
        direct = _direct[model_klass] = _direct_validator(model_klass)
    return direct  # type: ignore[return-value]


def _direct_validator(model_klass: type[FHIRAbstractModel]) -> SchemaValidator | None:
    """The class's schema with pydantic's call of ``__init__`` left out, where that
    ``__init__`` is fhir_core's and a ``resourceType`` is no field of the class; None where
    not, or the schema is not as expected."""
    if model_klass.__init__ is not FHIRAbstractModel.__init__:  # type: ignore[comparison-overlap]
        return None
    if "resourceType" in model_klass.model_fields:
        return None
    schema = dict(model_klass.__pydantic_core_schema__)
    inner = schema
    while inner.get("type") in ("function-after", "function-before", "function-wrap"):
        inner["schema"] = dict(inner["schema"])
        inner = inner["schema"]
    if inner.get("type") != "model" or inner.get("cls") is not model_klass:
        return None
    inner["custom_init"] = False
    try:
        return SchemaValidator(schema)  # type: ignore[arg-type]
    except SchemaError:  # not a schema that stands alone: fhir_core's way
        return None


# The fast forms run as fhir_core's own functions, their code swapped in (:func:`install`): such
# code keeps fhir_core's globals, so each names what it needs of this module as a keyword-only
# default, which pydantic does not count when it reads a validator's signature.


def reject_nulls(
    cls: type[FHIRAbstractModel], data: Any, *, _original: Any = _ORIGINAL[_REJECT_NULLS]
) -> Any:
    """``reject_null_complex_elements`` without its walk of the class's fields: a null in any
    list sent hands over to fhir_core's own code, which tells a list of complex elements (a
    refusal) from a list of primitives, where a null lines a value up with its extension."""
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list) and None in value:
                return _original(cls, data)
    return data


def after_construction(
    model: FHIRAbstractModel,
    *,
    _checks: Any = _after_checks,
    _tables: Any = _required_and_choices,
    _original: Any = _ORIGINAL[_AFTER],
) -> FHIRAbstractModel:
    """``validate_after_model_construction`` with the required and choice fields found once
    per class: a required field that is unset, or a choice set twice or not at all where one is
    required, is handed to fhir_core's own code, which says what is wrong."""
    cls = type(model)
    if cls not in _checks:  # a race builds the same table twice, which is harmless
        _checks[cls] = _tables(model)
    checks = _checks[cls]
    if checks is None:
        return _original(model)  # type: ignore[no-any-return]
    required, choices = checks
    for name in required:
        if getattr(model, name, None) is None:
            return _original(model)  # type: ignore[no-any-return]
    for fields, needed in choices:
        found = 0
        for name in fields:
            if getattr(model, name, None) is not None:
                found += 1
        if found > 1 or (needed and not found):
            return _original(model)  # type: ignore[no-any-return]
    return model


def element(
    cls: type[FhirBase],
    value: Any,
    model_klass: type[FHIRAbstractModel],
    *,
    _direct: Any = _direct,
    _unknown: Any = _UNKNOWN,
    _make: Any = _direct_for,
    _original: Any = _ORIGINAL[_ELEMENT],
) -> Any:
    """``fhir_model_validator`` for an element sent as an object: the element's class's own
    schema, without the ``__init__`` that would hand it to that schema; anything else (a text,
    a model, an object with a resource type, a class with an ``__init__`` of its own) goes
    fhir_core's way."""
    if type(value) is dict and "resourceType" not in value and "resource_type" not in value:
        direct = _direct.get(model_klass, _unknown)  # _make's look-up, inline: per element
        if direct is _unknown:
            direct = _make(model_klass)
        if direct is not None:
            return direct.validate_python(value)
    return _original(cls, value, model_klass)


_CALLS_FAST = {_REJECT_NULLS: reject_nulls, _AFTER: after_construction, _ELEMENT: element}
"""For each of fhir_core's validators, the fast form whose code :func:`install` swaps in."""


def validate(model_class: type[FHIRAbstractModel], data: Any) -> FHIRAbstractModel:
    """``model_class.model_validate(data)``; with the fast forms in place, a resource sent as
    an object of the class's own ``resourceType`` goes to the class's schema directly, without
    the ``__init__`` that would take that ``resourceType`` out and hand the rest on."""
    if (
        _ELEMENT.__code__ is element.__code__  # the fast forms are in place (all or none)
        and type(data) is dict
        and "resource_type" not in data
        and data.get("resourceType") == model_class.__resource_type__
    ):
        direct = _direct_for(model_class)
        if direct is not None:
            body = dict(data)
            del body["resourceType"]
            return direct.validate_python(body)  # type: ignore[no-any-return]
    return model_class.model_validate(data)


def install() -> bool:
    """Put the fast validators in place, on a fhir_core release they were written for; whether
    they are in place."""
    try:
        if version("fhir_core") not in WRITTEN_FOR:
            return False
    except PackageNotFoundError:  # installed without its metadata: which release is unknown
        return False
    for validator, calls in _CALLS_FAST.items():
        validator.__code__, validator.__kwdefaults__ = calls.__code__, calls.__kwdefaults__
    return True


def uninstall() -> None:
    """fhir_core's own validators back, as they were before :func:`install`."""
    for validator, original in _ORIGINAL.items():
        validator.__code__, validator.__kwdefaults__ = original.__code__, original.__kwdefaults__


def installed() -> bool:
    """Whether fhir_core's validators run the fast forms (the release pinned, and not undone)."""
    return all(v.__code__ is calls.__code__ for v, calls in _CALLS_FAST.items())
