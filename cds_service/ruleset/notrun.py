"""The one fact that says which checks of an answer could not run, and why.

A rule that reads a prefetch key the service could not obtain does not run (``sources.py``).
Such a rule is named on the card unless it could not have fired for this request whatever the
missing data held: one of its conditions (not ``absent``) is met by no fact, and the facts of
that condition's type are known in full without the missing keys (no missing key feeds the type
or an attribute the condition tests, per ``fact_sources``), or there is no fact of its type and
no missing key feeds the type whole (it feeds only attributes of facts that are all there). A
capecitabine order is then not told that the tamoxifen checks did not run: no draft order is
tamoxifen, and the draft orders do not come from any prefetch key; nor that the anthracycline
dose checks did not run for want of MedicationStatement: a cumulative dose is one per
anthracycline order, and the statements change only its cotherapy and limit. Whatever cannot
be shown so stays listed: never "nothing found" for "could not check".

The card is a warning when a listed check may be about a draft drug order of this request (a
prescriber is about to sign it without that check), else information: the record was not fully
checked, but nothing being ordered now was left unchecked.

When the service itself fails on the record (a fault of its code, not of the request), the checks
it could not complete are said on a card of their own (:func:`failed`): those that test what a
failed reader yields, or all of them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..facts import (
    DRUG_ORDER_FACTS,
    UNIDENTIFIED_DRUG,
    ChecksNotRun,
    DraftMedication,
    Fact,
    Unreadable,
)
from ..prefetch.record import PatientRecord
from ..protocol.fhir import reference_of
from .compiled import Rule
from .sources import UNDECLARED

_ABOUT_ORDERS = frozenset(fact_type.kind for fact_type in DRUG_ORDER_FACTS)
_COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$neq": operator.ne,
}


def not_run(
    rules: Iterable[Rule],
    blocked: Mapping[str, str],
    found: Sequence[Fact],
    record: PatientRecord,
) -> list[ChecksNotRun]:
    """The checks that need a key in ``blocked`` (key -> why it is missing) and could have
    fired on ``found`` (the facts read without those keys): none, or one fact for one card."""
    if not blocked:  # as when all the data came: no rule to look at
        return []
    facts: dict[str, list[Fact]] = {}
    for fact in found:
        facts.setdefault(fact.kind, []).append(fact)
    drafts = _drug_orders(record, found)
    known = None not in drafts.values()
    listed: dict[str, list[Rule]] = {key: [] for key in sorted(blocked)}
    concerned: set[str] = set()
    for rule in rules:
        missing = rule.needs & blocked.keys()
        if not missing:
            continue
        about = _could_fire(rule, missing, facts, drafts, known)
        if about is None:
            continue
        concerned |= about
        for key in sorted(missing):
            listed[key].append(rule)
    if not any(listed.values()):
        return []
    keys = [key for key, checks in listed.items() if checks]
    return [
        ChecksNotRun(
            queries="\n".join(
                f"- {_text(blocked[key])}\n"
                + "\n".join(f"  - {rule.title}" for rule in listed[key])
                for key in keys
            ),
            count=float(len({rule.id for key in keys for rule in listed[key]})),
            keys=", ".join(keys),
            orders="; ".join(f"{drafts[o]} ({o})" if drafts[o] else o for o in sorted(concerned))
            or None,
            drugs=", ".join(dict.fromkeys(drafts[o] or o for o in sorted(concerned))) or None,
            sources=tuple(f"prefetch '{key}'" for key in keys),  # one uuid per missing data
        )
    ]


def failed(
    rules: Iterable[Rule],
    reference: str,
    orders: Iterable[Mapping[str, Any]],
    lost: frozenset[str] | None = None,
) -> ChecksNotRun | None:
    """The one fact of a call on whose record the service failed, ``reference`` naming its log
    line: with ``lost``, the fact kinds that could not be read, the checks that test one, listed
    (none: no fact); without, every check of the record, counted. Every draft drug order is
    concerned, by reference only: which drug it orders may not have been read."""
    if lost is None:
        listed = [rule for rule in rules if of_the_record(rule)]
        queries = f"- the service failed checking this record (reference {reference}): "
        queries += f"none of its {len(listed)} checks was completed"
    else:
        listed = [rule for rule in rules if testing(rule, lost)]
        if not listed:
            return None
        queries = f"- the service failed reading part of this record (reference {reference}); "
        queries += "the other checks ran as usual, these did not:\n"
        queries += "\n".join(f"  - {rule.title}" for rule in listed)
    drafts = [reference_of(o) for o in orders if o.get("resourceType") == "MedicationRequest"]
    return ChecksNotRun(
        queries=queries,
        count=float(len(listed)),
        keys="none",
        orders="; ".join(drafts) or None,
        fault=reference,
        sources=("the service's check of the record",),
    )


def of_the_record(rule: Rule) -> bool:
    """Whether ``rule`` tests what the record holds: not only the checks that did not run."""
    return any(condition["fact"] != ChecksNotRun.kind for condition in rule.when.values())


def testing(rule: Rule, kinds: frozenset[str]) -> bool:
    """Whether a condition of ``rule``, present or absent, is on a fact of one of ``kinds``."""
    return any(condition["fact"] in kinds for condition in rule.when.values())


def _text(said: str) -> str:
    """What a server said, as text the engine can take (a lone surrogate would lose the card)."""
    return said.encode("utf-8", "replace").decode()


def _drug_orders(record: PatientRecord, found: Sequence[Fact]) -> dict[str, str | None]:
    """The draft drug orders of the request, each with its drug, or None when it gave no fact.

    A draft order naming a Medication sent in a prefetch key, not beside the order, is read
    only when that key's data came: the draft orders read are then not all there are. An order
    that is not valid FHIR is left out (it has its own card and no drug whatever came).
    """
    named = {f.order: f.drug for f in found if isinstance(f, DraftMedication)}
    unread = {
        f.resource for f in found if isinstance(f, Unreadable) and f.role != UNIDENTIFIED_DRUG
    }
    return {
        reference: named.get(reference)
        for order in record.draft_orders
        if order.get("resourceType") == "MedicationRequest"
        and (reference := reference_of(order)) not in unread
    }


def _could_fire(
    rule: Rule,
    missing: frozenset[str],
    facts: Mapping[str, Sequence[Fact]],
    drafts: Mapping[str, str | None],
    known: bool,
) -> set[str] | None:
    """None if a condition of ``rule`` provably meets no fact, else the draft orders it may be
    about: those its known conditions match, all of them if an unknown one may be about one.
    Facts about draft orders are unknown too when a draft order gave none (``known`` false)."""
    about: set[str] = set()
    for alias, expression in rule.conditions:
        kind = rule.when[alias]["fact"]
        ordered = kind in _ABOUT_ORDERS
        if kind in UNDECLARED or rule.counts[alias] & missing or (ordered and not known):
            if ordered:
                about |= drafts.keys()  # which orders its facts would be about is not known
            continue
        if rule.reads[alias] & missing:  # only attributes it tests are unknown: any fact may
            matching = list(facts.get(kind, ()))
        else:
            matching = [f for f in facts.get(kind, ()) if may_match(expression, f.engine_view())]
        if not matching:
            return None
        about |= {source for fact in matching for source in fact.sources if source in drafts}
    return about


def may_match(expression: Mapping[str, Any], view: Mapping[str, Any]) -> bool:
    """Whether the engine could match a fact (its ``engine_view``) to a compiled condition.

    The compiled form is what the engine runs (``conditions.py``): ``$and``, ``$or``, equality,
    comparisons and existence. As in durable-rules, every test but ``$nex`` needs the attribute.
    An operator not known here is taken as met: an unknown never drops a check.
    """
    (name, test), *more = expression.items()
    if more:
        return all(may_match({k: v}, view) for k, v in expression.items())
    if name == "$and":
        return all(may_match(part, view) for part in test)
    if name == "$or":
        return any(may_match(part, view) for part in test)
    if name in ("$ex", "$nex"):
        (attribute,) = test
        return (attribute in view) == (name == "$ex")
    if name in _COMPARE:
        ((attribute, value),) = test.items()
        try:
            return attribute in view and _COMPARE[name](view[attribute], value)
        except TypeError:  # types are checked when rules load and facts are sent: not expected
            return True
    if name.startswith("$"):
        return True
    return name in view and view[name] == test
