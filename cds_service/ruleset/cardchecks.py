"""The checks of a rule's card that need its conditions: what the author wrote must be able to work.

Placeholders nothing fills, a summary that can pass 140 characters once filled, a dose or a
suggestion that names no draft order, a code that is not a CodeableConcept, a due date with
nothing to count from. The schema has already checked the shape; these are the checks a schema
cannot make.
"""

from __future__ import annotations

from collections.abc import Mapping

from fhir.resources.R4B.codeableconcept import CodeableConcept
from pydantic import ValidationError

from .. import facts as fact_types
from ..knowledge.tables import Knowledge
from ..protocol.yamlfile import RuleFileError
from . import placeholders
from .compiled import Rule
from .conditions import VOCABULARIES, is_absent, pinned_values


def card_problems(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> list[RuleFileError]:
    """Placeholders nothing fills, a summary that can overflow, a dose or code that cannot work."""
    messages = _placeholder_problems(rule)
    if not messages:  # a summary with unknown placeholders has no length to speak of
        messages += _summary_problems(rule, knowledge, schema)
    messages += _order_problems(rule) + _code_problems(rule) + _due_problems(rule, schema)
    return [RuleFileError(rule.file.path, text, line, rule.id) for text, line in messages]


def _placeholder_problems(rule: Rule) -> list[tuple[str, int]]:
    card = rule.card
    kinds = {alias: spec["fact"] for alias, spec in rule.when.items() if not is_absent(spec)}
    texts = [("summary", card["summary"], card.line_of("summary"))]
    if "detail" in card:
        texts.append(("detail", card["detail"], card.line_of("detail")))
    suggestions = card.get("suggestions") or []
    texts += [("suggestion label", s["label"], s.line_of("label")) for s in suggestions]
    texts += [
        ("service_request reason", r["reason"], r.line_of("reason"))
        for r in (s.get("service_request") for s in suggestions)
        if r and "reason" in r
    ]
    found = []
    for where, text, line in texts:
        for alias, attribute in placeholders.placeholders(text):
            why = placeholders.unknown_placeholder(alias, attribute, kinds)
            if alias in rule.when and is_absent(rule.when[alias]):
                why = f"{{{alias}.{attribute}}}: condition {alias} is absent, no fact fills it"
            elif why is None and alias in placeholders.COMPUTED and alias not in card:
                why = f"{{{alias}.{attribute}}} needs '{alias}' in the card"
            if why:
                found.append((f"{where}: {why}", line))
    return found


def _summary_problems(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> list[tuple[str, int]]:
    summary = rule.card["summary"]
    longest, parts = placeholders.longest(summary, _longest_values(rule, knowledge, schema))
    if longest <= placeholders.SUMMARY_MAX:
        return []
    message = (
        f"summary can reach {longest} characters once filled ({parts}); CDS Hooks asks for "
        "fewer than 140: shorten it, or move free text such as a diplotype to the detail"
    )
    return [(message, rule.card.line_of("summary"))]


def _order_problems(rule: Rule) -> list[tuple[str, int]]:
    """``dose`` and order suggestions must point at a draft order; adjust-dose needs a dose.

    A dose change needs the draft_med fact (its dose); cancelling an order needs only a fact
    about one draft order (``ORDER_FACTS``: a dose check names its order too).
    """
    card = rule.card
    suggestions = card.get("suggestions") or []
    dose = card.get("dose")
    draft = (fact_types.DraftMedication.kind,)
    about_order = tuple(t.kind for t in fact_types.ORDER_FACTS)
    checks = [(dose, draft)] if dose else []
    checks += [
        (s, draft if s["action"] == "adjust-dose" else about_order)
        for s in suggestions
        if s["action"] in ("adjust-dose", "remove-order")
    ]
    found = []
    for spec, kinds in checks:
        alias = spec.get("order", "order")
        if rule.when.get(alias, {}).get("fact") not in kinds:
            line = spec.line_of("order") if "order" in spec else spec.line
            found.append(
                (f"'order: {alias}' must name a condition on a {' or '.join(kinds)} fact", line)
            )
    if any(s["action"] == "adjust-dose" for s in suggestions) and not dose:
        found.append(
            ("an adjust-dose suggestion needs 'dose' in the card", card.line_of("suggestions"))
        )
    return found


def _code_problems(rule: Rule) -> list[tuple[str, int]]:
    """The code and category of a ServiceRequest suggestion must be FHIR CodeableConcepts."""
    found = []
    for suggestion in rule.card.get("suggestions") or []:
        request = suggestion.get("service_request") or {}
        for key in ("code", "category"):
            if key not in request:
                continue
            try:
                CodeableConcept.model_validate(request[key])
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in (key, *first["loc"]))
                message = f"service_request.{where}: {first['msg']} (a FHIR CodeableConcept)"
                found.append((message, request.line_of(key)))
    return found


def _due_problems(rule: Rule, schema: Mapping[str, Mapping[str, type]]) -> list[tuple[str, int]]:
    """``due.after`` must name a text attribute of a condition's fact: the date counted from."""
    due = rule.card.get("due")
    if not due:
        return []
    alias, _, attribute = str(due["after"]).partition(".")
    spec = rule.when.get(alias, {})
    if spec and not is_absent(spec) and schema[spec["fact"]].get(attribute) is str:
        return []
    message = (
        f"due.after {due['after']!r} must be condition.attribute naming a date of a condition's "
        f"fact (conditions: {', '.join(rule.when)})"
    )
    return [(message, due.line_of("after"))]


def _longest_values(
    rule: Rule, knowledge: Knowledge, schema: Mapping[str, Mapping[str, type]]
) -> dict[tuple[str, str], int]:
    """The longest text each placeholder of ``rule`` can put into a summary."""
    longest: dict[tuple[str, str], int] = {
        ("due", "date"): max(len("YYYY-MM-DD"), len(placeholders.DUE_UNKNOWN)),
        ("due", "weeks"): placeholders.NUMBER_MAX,
    }
    for alias, spec in rule.when.items():
        if is_absent(spec):
            continue
        for attribute, kind in schema[spec["fact"]].items():
            pinned = pinned_values(spec, attribute, knowledge)
            if kind is float:
                longest[(alias, attribute)] = placeholders.NUMBER_MAX
            elif pinned:
                longest[(alias, attribute)] = max(len(str(v)) for v in pinned)
            elif attribute in VOCABULARIES:
                values = VOCABULARIES[attribute][1](knowledge)
                longest[(alias, attribute)] = max((len(v) for v in values), default=0)
    return longest
