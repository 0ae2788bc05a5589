"""Cards rendered from a rule's template and the facts that made it fire.

Every card is traceable: ``source`` names the guideline and the rule-set version, ``source.topic``
the rule, ``detail`` the evidence (values and resource ids) and anything that could not be
read, and its ``uuid`` is derived from the rule, the patient and the evidence under the
deployment's key (``ids.py``), so the same finding gets the same uuid at order-select and at
order-sign, and no one without the key can tell from a uuid which patient it is about.

An order changed by a card's suggestion carries that card's uuid as a ``meta.tag``; a card whose
uuid is on one of the draft orders has been acted on and is not shown again (``applied``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..facts import FACT_TYPES, ORDER_FACTS, DraftMedication, Fact, Unreadable
from ..facts.clinical import day_of
from ..facts.course import APPLIED_SYSTEM
from ..facts.dosage import format_number, scaled_order
from ..facts.types.fact import field_names
from ..knowledge.tables import DrugTable
from ..prefetch.record import PatientRecord
from ..protocol.messages import (
    FHIR_ID,
    Action,
    Card,
    Coding,
    Link,
    OverrideReason,
    Source,
    Suggestion,
)
from ..ruleset.compiled import Rule, RuleSet
from ..ruleset.conditions import is_absent
from ..ruleset.placeholders import DUE_UNKNOWN, SUMMARY_MAX, VALUE_MAX, fill
from .doses import rounded, unit_words
from .ids import PROCESS_IDS, CardIds

TOPIC_SYSTEM = "urn:oncology-pgx-cds:rule"
OVERRIDE_SYSTEM = "urn:oncology-pgx-cds:override-reason"
LABELS = {fact_type.kind: fact_type.label for fact_type in FACT_TYPES}
NOTES_SHOWN = 3
"""Resources named in a list of data that could not be read; the rest are counted."""
_OPERATOR_WORDS = {"class": "of class", "any_of": "one of", "exists": "recorded"}


@dataclass(frozen=True)
class Firing:
    """A rule that fired, with its facts by the aliases of its conditions."""

    rule: Rule
    facts: Mapping[str, Fact]


def render(
    firing: Firing,
    record: PatientRecord,
    rule_set: RuleSet,
    notes: Sequence[Unreadable],
    ids: CardIds = PROCESS_IDS,
) -> Card:
    rule, template = firing.rule, firing.rule.card
    drugs = rule_set.knowledge.drugs
    values = _values(firing, drugs)
    card_uuid = ids(rule.id, record.patient_id, *sorted(_sources(firing)), *_sourceless(firing))
    suggestions = [
        suggestion
        for index, spec in enumerate(template.get("suggestions") or [])
        if (suggestion := _suggestion(spec, index, ids, card_uuid, firing, values, record, drugs))
        is not None
    ]
    guideline = rule.file.guideline
    return Card(
        uuid=card_uuid,
        summary=_clipped(fill(template["summary"], values, limit=VALUE_MAX)),
        detail=_detail(firing, values, rule_set, notes, record),
        indicator=template["indicator"],
        source=Source(
            label=f"{guideline.label} · rules {rule_set.version}",
            url=guideline.url,
            topic=Coding(system=TOPIC_SYSTEM, code=rule.id, display=rule.title),
        ),
        suggestions=suggestions or None,
        selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=[
            OverrideReason(system=OVERRIDE_SYSTEM, code=r["code"], display=r["display"])
            for r in rule.file.override_reasons
        ]
        or None,
        links=[
            Link(label=link["label"], url=link["url"], type="absolute") for link in rule.file.links
        ]
        or None,
    )


def applied(card: Card, record: PatientRecord) -> bool:
    """Whether a draft order already carries this card's change (its uuid as a ``meta.tag``)."""
    return any(
        isinstance(tag, dict)
        and tag.get("system") == APPLIED_SYSTEM
        and tag.get("code") == card.uuid
        for order in record.draft_orders
        for tag in ((order.get("meta") or {}).get("tag") or [])
    )


def distinct(cards: Iterable[Card]) -> list[Card]:
    """The cards with none repeated: the same rule, summary and suggested changes once.

    Facts about one thing can arrive twice (two cancers both lacking an ECOG); the clinician
    must read each finding once. Cards that change different orders are not repeats.
    """
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for card in cards:
        targets = tuple(
            (suggestion.label, action.type, action.resourceId, _resource_key(action.resource))
            for suggestion in card.suggestions or ()
            for action in suggestion.actions or ()
        )
        key = (card.source.topic.code if card.source.topic else None, card.summary, targets)
        if key not in seen:
            seen.add(key)
            kept.append(card)
    return kept


def _resource_key(resource: Mapping[str, Any] | None) -> str | None:
    return f"{resource.get('resourceType')}/{resource.get('id')}" if resource else None


def _values(firing: Firing, drugs: DrugTable) -> dict[tuple[str, str], str]:
    values: dict[tuple[str, str], str] = {}
    for alias, fact in firing.facts.items():
        for name in field_names(type(fact)):
            values[(alias, name)] = _say(getattr(fact, name))
    ordered, adjusted = _dose_phrases(firing, drugs)
    values[("dose", "ordered")] = ordered
    values[("dose", "adjusted")] = adjusted
    due = firing.rule.card.get("due")
    if due:
        values[("due", "date")] = _due_date(due, values)
        values[("due", "weeks")] = format_number(float(due["weeks"]))
    return values


def _due_date(due: Mapping[str, Any], values: Mapping[tuple[str, str], str]) -> str:
    """``{due.date}``: the day the rule's ``due.weeks`` after the date ``due.after`` names."""
    alias, attribute = str(due["after"]).split(".", 1)
    start = day_of(values[(alias, attribute)])
    if start is None:
        return DUE_UNKNOWN
    return (start + timedelta(weeks=float(due["weeks"]))).isoformat()


def _dose_phrases(firing: Firing, drugs: DrugTable) -> tuple[str, str]:
    """``{dose.ordered}`` and ``{dose.adjusted}``: "1000 mg/m2 twice daily", "500 ... (50%)".

    A rule's ``dose`` gives a ``factor`` of the ordered dose, a range (``factor`` to ``up_to``),
    or a fixed starting dose (``value`` and ``unit``). A single computed dose of a drug with
    tablet strengths is shown rounded to what they make, with the exact dose beside it.
    """
    spec = firing.rule.card.get("dose")
    if not spec:
        return "the ordered dose", "the ordered dose"
    fact = firing.facts.get(spec.get("order", "order"))
    order = fact if isinstance(fact, DraftMedication) else None
    value = order.dose_value if order else None
    ordered = "the ordered dose"
    if order is not None and value is not None:
        ordered = _dose_text(order, value, drugs)
    if "value" in spec:
        fixed = [format_number(float(spec["value"])), spec["unit"], order and order.frequency]
        return ordered, " ".join(filter(None, fixed))
    low = float(spec["factor"])
    high = float(spec.get("up_to", low))
    percent = "-".join(dict.fromkeys(format_number(f * 100) for f in (low, high))) + "%"
    if order is None or value is None:
        return ordered, f"{percent} of the ordered dose"
    made = rounded(order, value * low, drugs) if low == high else None
    if made is not None:
        text = " ".join(filter(None, [made.said, order.frequency]))
        exact = f"{percent} is {made.exact}" if made.exact != made.said else percent
        return ordered, f"{text} ({made.made_of}; {exact})"
    amounts = "-".join(dict.fromkeys(format_number(value * f) for f in (low, high)))
    return ordered, f"{_dose_text(order, amounts, drugs)} ({percent})"


def _factor(spec: Mapping[str, Any], order: DraftMedication, drugs: DrugTable) -> float | None:
    """The one factor an updated order can carry; none for a range or a unit that differs.

    A dose rounded to tablets changes the order by the rounded amount, never to a part tablet.
    """
    if "up_to" in spec or not order.dose_value:
        return None
    if "value" in spec:
        same_unit = order.dose_unit == spec["unit"]
        return float(spec["value"]) / order.dose_value if same_unit else None
    made = rounded(order, order.dose_value * float(spec["factor"]), drugs)
    if made is not None and order.dose_unit != "mg" and made.amount != int(made.amount):
        return None  # a mix of strengths cannot be written as a count of this order's tablets
    return made.amount / order.dose_value if made is not None else float(spec["factor"])


def _dose_text(order: DraftMedication, amount: float | str, drugs: DrugTable) -> str:
    count = amount if isinstance(amount, float) else 0.0
    said = format_number(amount) if isinstance(amount, float) else amount
    return " ".join(filter(None, [said, unit_words(order, count, drugs), order.frequency]))


_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
"""A knowledge-table key (``primary_tumor``, ``goals_of_care``): said in words on a card."""


def _say(value: Any) -> str:
    if value is None:
        return "not reported"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, tuple):
        return ", ".join(map(_say, value))
    text = str(value)
    return text.replace("_", " ") if _KEY.fullmatch(text) else text


def _clipped(summary: str) -> str:
    """The summary within CDS Hooks' 140 characters, whatever the record held.

    Rule loading already refuses a template that could overflow with sane values; this is the
    last guard against an absurd one (a number no template bound foresaw).
    """
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


def _detail(
    firing: Firing,
    values: Mapping[tuple[str, str], str],
    rule_set: RuleSet,
    notes: Sequence[Unreadable],
    record: PatientRecord,
) -> str:
    rule, template = firing.rule, firing.rule.card
    parts = [fill(template.get("detail", ""), values).strip(), "**Evidence**"]
    parts.append("\n".join(_evidence(alias, fact) for alias, fact in firing.facts.items()))
    absences = [_absence(spec) for spec in rule.when.values() if is_absent(spec)]
    if absences:
        parts.append("**Checked and not on file**")
        parts.append("\n".join(absences))
    if notes:
        parts.append("**Could not evaluate**")
        shown = [f"- {n.resource}: {n.reason}" for n in notes[:NOTES_SHOWN]]
        if len(notes) > NOTES_SHOWN:
            shown.append(f"- and {len(notes) - NOTES_SHOWN} more")
        parts.append("\n".join(shown))
    read_as = [
        f"- {source}: {note}"
        for source in sorted(_sources(firing))
        for note in record.read_as.get(source, ())
    ]
    if read_as:
        parts.append("**Read with care**")
        parts.append("\n".join(read_as))
    guideline = rule.file.guideline
    lines = []
    if template.get("strength"):
        lines.append(f"**Strength of recommendation:** {template['strength']}")
    lines.append(f"**Source:** {guideline.citation or guideline.label}")
    lines.append(
        f"**Rule:** {rule.id} ({rule.file.id} {rule.file.version}; rule set {rule_set.version})"
    )
    parts.append("  \n".join(lines))
    return "\n\n".join(p for p in parts if p)


def _evidence(alias: str, fact: Fact) -> str:
    shown = [
        f"{name.replace('_', ' ')} {_say(getattr(fact, name))}"
        for name in field_names(type(fact))
        if name != "sources" and getattr(fact, name) is not None
    ]
    sources = f" ({', '.join(fact.sources)})" if fact.sources else ""
    return f"- {fact.label}: {'; '.join(shown)}{sources}"


def _absence(spec: Mapping[str, Any]) -> str:
    """An ``absent`` condition in words: what the record was searched for and did not hold."""
    tests = [
        f"{attribute.replace('_', ' ')} {_test_words(test)}"
        for attribute, test in spec.items()
        if attribute not in ("fact", "absent")
    ]
    return f"- {LABELS[spec['fact']]}: {'; '.join(tests)}" if tests else f"- {LABELS[spec['fact']]}"


def _test_words(test: Any) -> str:
    if isinstance(test, list):
        return "one of " + ", ".join(_say(v) for v in test)
    if isinstance(test, Mapping):
        return ", ".join(
            f"{_OPERATOR_WORDS.get(operator, operator.replace('_', ' '))} "
            + (", ".join(map(_say, value)) if isinstance(value, list) else _say(value))
            for operator, value in test.items()
        )
    return _say(test)


def _sources(firing: Firing) -> set[str]:
    found: set[str] = set()
    for fact in firing.facts.values():
        found.update(fact.sources)
    return found


def _sourceless(firing: Firing) -> list[str]:
    """Facts that cite no resource ("no HER2 on file"), by what they say: without them, three
    findings missing for one cancer would share one uuid in one answer."""
    return sorted(
        repr(sorted(f.engine_view().items())) for f in firing.facts.values() if not f.sources
    )


def _suggestion(
    spec: Mapping[str, Any],
    index: int,
    ids: CardIds,
    card_uuid: str,
    firing: Firing,
    values: Mapping[tuple[str, str], str],
    record: PatientRecord,
    drugs: DrugTable,
) -> Suggestion | None:
    action = _action(spec, card_uuid, firing, values, record, drugs)
    if action is None:
        return None
    return Suggestion(
        label=fill(spec["label"], values),
        uuid=ids(card_uuid, str(index)),
        isRecommended=bool(spec.get("recommended")) or None,
        actions=[action],
    )


def _action(
    spec: Mapping[str, Any],
    card_uuid: str,
    firing: Firing,
    values: Mapping[tuple[str, str], str],
    record: PatientRecord,
    drugs: DrugTable,
) -> Action | None:
    kind = spec["action"]
    if kind in ("order-test", "refer"):
        request = spec["service_request"]
        resource: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "order",
        }
        if request.get("category"):
            resource["category"] = [request["category"]]
        resource["code"] = request["code"]
        resource["subject"] = {"reference": f"Patient/{record.patient_id}"}
        if request.get("reason"):
            resource["reasonCode"] = [{"text": fill(request["reason"], values)}]
        return Action(type="create", description=fill(spec["label"], values), resource=resource)
    order = firing.facts.get(spec.get("order", "order"))
    if kind == "remove-order" and isinstance(order, ORDER_FACTS):
        if not re.fullmatch(rf"[A-Za-z]+/{FHIR_ID}", order.order):
            return None  # an order without a usable id cannot be named: the card still says it
        return Action(
            type="delete",
            resourceId=order.order,
            description=f"Remove the draft order for {order.drug} ({order.order})",
        )
    if not isinstance(order, DraftMedication):
        return None
    dose = firing.rule.card.get("dose")
    original = record.draft_order(order.order)
    factor = _factor(dose, order, drugs) if dose else None
    if original is None or factor is None:
        return None  # no single new dose to put in the order: the card states it
    note = f"{values[('dose', 'adjusted')]} (changed from {values[('dose', 'ordered')]})"
    resource = scaled_order(original, factor, note)
    meta = resource.setdefault("meta", {})
    meta["tag"] = [
        *(meta.get("tag") or []),
        {"system": APPLIED_SYSTEM, "code": card_uuid, "display": f"Changed by {firing.rule.id}"},
    ]
    return Action(
        type="update",
        description=f"Change {order.order} to {values[('dose', 'adjusted')]}",
        resource=resource,
    )
