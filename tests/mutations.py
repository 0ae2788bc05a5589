"""Mutations of CDS Hooks requests for the fuzzer (``tests/test_fuzz.py``, ``bench/fuzz.py``).

One mutation changes one member of one FHIR resource of a fixture request (a draft order or a
prefetched resource): a wrong JSON type, a deletion, a list sent as its lone first item, a huge
array, odd unicode. Everything is drawn from a :class:`random.Random`, so that hypothesis (through
``st.randoms``) and the long benchmark run share the same mutations.

Extreme numbers are among the wrong values (1e16, 1e-6, 1e300, the smallest float, -0.0, and
an integer past 64 bits, which the JSON parser reads as a float): they once made the rules
engine match nothing or crash (issue 12, items 1 and 2). NaN and infinities are not JSON.

"Depends", for the metamorphic property, is conservative: a card depends on a mutated resource
when it cites the resource's ``Type/id`` anywhere, or when its rule tests a fact that a
resource of that type may feed (:data:`FEEDS`). Every other card must
come back unchanged.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUESTS = Path(__file__).resolve().parent.parent / "fixtures" / "fhir" / "requests"

_ODD_TEXT = (
    "",
    " ",
    "\u202e\u0645\u0631\u062d\u0628\u0627",  # right-to-left override, Arabic
    "e\u0301\u0301\u0301\u0301",  # combining accents
    "\u200b\u200d\ufeff",  # zero-width characters
    "\U0001f9ec" * 40,  # astral-plane emoji
    "\x00\x07\x1b[31m",  # NUL, BEL, an ANSI escape
    "{broken.resource}",  # a card placeholder as data
    "x" * 5000,
)
_WRONG_VALUES: tuple[Any, ...] = (
    0,
    -1,
    7,
    -1000.5,
    1e16,
    1e-6,
    1e300,
    5e-324,
    -0.0,
    2**70,
    True,
    False,
    None,
    [],
    [1, "a"],
    {},
    {"a": 1},
    "text",
    *_ODD_TEXT,
)
KINDS = ("wrong_type", "delete", "lone_object", "huge_array", "odd_unicode")


@dataclass(frozen=True)
class Mutation:
    """What was changed, to report a failure and to decide which cards may change."""

    fixture: str
    resource: str
    """``Type/id`` of the mutated resource as it was before the mutation."""
    resource_type: str
    kind: str
    path: str


def fixture_names() -> list[str]:
    return sorted(p.name for p in REQUESTS.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((REQUESTS / name).read_text(encoding="utf-8"))


def resources(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every resource of a request the rules may read: draft orders and prefetched resources."""
    found: list[dict[str, Any]] = []
    context = request.get("context") or {}
    roots = [context.get("draftOrders"), *(request.get("prefetch") or {}).values()]
    for root in roots:
        if not isinstance(root, dict):
            continue
        if root.get("resourceType") == "Bundle":
            found += [e["resource"] for e in root.get("entry") or () if "resource" in e]
        else:
            found.append(root)
    return found


def reference(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def mutate(
    name: str, request: Mapping[str, Any], rng: random.Random, huge: int = 300
) -> tuple[dict[str, Any], Mutation]:
    """A deep copy of ``request`` with one member of one resource changed."""
    mutated = copy.deepcopy(dict(request))
    targets = resources(mutated)
    target = rng.choice(targets)
    before = reference(target)
    kind = rng.choice(KINDS)
    path = _apply(target, kind, rng, huge)
    return mutated, Mutation(name, before, str(target.get("resourceType")), kind, path)


def _slots(value: Any, path: str = "") -> Iterator[tuple[Any, Any, str]]:
    """``(container, key, path)`` of every member below ``value`` (not resourceType)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        if key == "resourceType":
            continue
        here = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
        yield value, key, here
        if isinstance(child, dict | list):
            yield from _slots(child, here)


def _apply(resource: dict[str, Any], kind: str, rng: random.Random, huge: int) -> str:
    slots = list(_slots(resource))
    if kind in ("lone_object", "huge_array"):
        slots = [s for s in slots if isinstance(s[0][s[1]], list) and s[0][s[1]]] or slots
    elif kind == "odd_unicode":
        slots = [s for s in slots if isinstance(s[0][s[1]], str)] or slots
    if not slots:
        return "(empty resource)"
    container, key, path = rng.choice(slots)
    value = container[key]
    if kind == "delete":
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif kind == "lone_object" and isinstance(value, list) and value:
        container[key] = value[0]
    elif kind == "huge_array" and isinstance(value, list) and value:
        container[key] = [copy.deepcopy(value[0]) for _ in range(huge)]
    elif kind == "odd_unicode":
        container[key] = rng.choice(_ODD_TEXT)
    else:
        container[key] = copy.deepcopy(rng.choice(_WRONG_VALUES))
    return f"{kind} {path}"


_MEDICATIONS = (
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "Medication",
)
_FROM_MEDICATIONS = frozenset(
    {"draft_med", "active_med", "inhibitor", "pgx_phenotype", "pgx_group", "pgx_missing"}
    | {"auc_dose", "cumulative_dose", "targeted_order", "biomarker", "care", "care_missing"}
)
FEEDS: Mapping[str, frozenset[str]] = {
    "Patient": frozenset({"patient", "auc_dose", "cumulative_dose"}),
    "Condition": frozenset(
        {"patient", "draft_med", "cancer", "advanced_cancer", "biomarker", "targeted_order"}
        | {"pgx_phenotype", "pgx_group", "auc_dose", "cumulative_dose", "finding"}
    ),
    "Observation": frozenset(
        {"pgx_genotype", "pgx_phenotype", "pgx_group", "pgx_missing", "finding"}
        | {"finding_trend", "finding_missing", "biomarker", "targeted_order", "auc_dose"}
        | {"cumulative_dose", "advanced_cancer"}
    ),
    "Procedure": frozenset(
        {"procedure", "care", "care_missing", "finding", "finding_trend", "finding_missing"}
        | {"cancer", "advanced_cancer", "biomarker", "targeted_order", "patient"}
    ),
    "ServiceRequest": frozenset(
        {"care", "care_missing", "pgx_missing", "finding_missing", "targeted_order"}
        | {"biomarker", "draft_med", "pgx_phenotype", "pgx_group"}
    ),
    **dict.fromkeys(_MEDICATIONS, _FROM_MEDICATIONS),
}
"""The fact kinds a resource type may feed, read from the ``facts`` modules and widened where
in doubt; every type may also feed ``unreadable``, and a type not listed may feed every kind."""


def rule_reads(fact_kinds: frozenset[str], resource_type: str) -> bool:
    """Whether a rule testing (or testing the absence of) ``fact_kinds`` may read the type."""
    fed = FEEDS.get(resource_type)
    return fed is None or bool(fact_kinds & (fed | {"unreadable"}))


def independent(
    card: Mapping[str, Any], mutation: Mutation, rule_facts: Mapping[str, frozenset[str]]
) -> bool:
    """Whether ``card`` neither cites the mutated resource nor comes from a rule that may read
    its type: such a card must come back unchanged."""
    rule = str((card.get("source") or {}).get("topic", {}).get("code"))
    cites = mutation.resource in json.dumps(card)
    return not cites and not rule_reads(
        rule_facts.get(rule, frozenset({"?"})), mutation.resource_type
    )


FAULT = "checks-not-run-fault"
"""The rule of the card a call answers when the service fails on the record
(``rules/data-quality.yaml``): a defect, as a 5xx was before it."""


def faulted(cards: list[Mapping[str, Any]]) -> bool:
    """Whether ``cards`` say that the service failed on the record."""
    return any((card.get("source") or {}).get("topic", {}).get("code") == FAULT for card in cards)


def unchanged_cards_missing(
    before: list[Mapping[str, Any]],
    after: list[Mapping[str, Any]],
    mutation: Mutation,
    rule_facts: Mapping[str, frozenset[str]],
) -> list[str]:
    """Cards of ``before`` that do not depend on the mutated resource and are not in ``after``.

    A card is compared by uuid, summary and indicator: its detail may gain a note about data
    that could not be read, which is the point of reading it.
    """

    def key(card: Mapping[str, Any]) -> tuple[str, str, str]:
        return (str(card.get("uuid")), str(card.get("summary")), str(card.get("indicator")))

    kept = {key(card) for card in after}
    return [
        f"{card['source']['topic']['code']}: {card.get('summary')}"
        for card in before
        if independent(card, mutation, rule_facts) and key(card) not in kept
    ]
