"""Saved CDS Hooks requests run through two rule sets, and what changed on the cards.

A pharmacy and therapeutics committee reviews a rule change by its effect: which cards appear,
which disappear, and which say something else (indicator, summary, dose). Cards are matched by
rule and uuid; the uuid comes from the rule, the patient and the evidence, so the same finding
has the same uuid under both rule sets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .. import service
from ..protocol.messages import Card
from ..protocol.outcomes import ClientError
from ..ruleset.compiled import RuleSet


@dataclass(frozen=True)
class Seen:
    """What a reviewer compares on one card."""

    rule: str
    indicator: str
    summary: str
    dose: str | None

    @classmethod
    def of(cls, card: Card) -> Seen:
        return cls(
            rule=card.source.topic.code if card.source.topic else "",
            indicator=card.indicator,
            summary=card.summary,
            dose=_suggested_dose(card),
        )


@dataclass
class Outcome:
    """One request under both rule sets."""

    name: str
    hook: str
    added: list[Seen] = field(default_factory=list)
    removed: list[Seen] = field(default_factory=list)
    changed: list[tuple[Seen, Seen]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.errors)


def load_requests(paths: Iterable[Path]) -> list[tuple[str, Any]]:
    """Requests from files, and from every ``*.json`` in a folder, by name."""
    found: list[tuple[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        for file in files:
            found.append((str(file), json.loads(file.read_text(encoding="utf-8"))))
    return found


def replay(
    requests: Sequence[tuple[str, Any]], baseline: RuleSet, candidate: RuleSet, today: date
) -> list[Outcome]:
    return [_one(name, body, baseline, candidate, today) for name, body in requests]


def _one(name: str, body: Any, baseline: RuleSet, candidate: RuleSet, today: date) -> Outcome:
    hook = body.get("hook", "?") if isinstance(body, dict) else "?"
    outcome = Outcome(name, hook)
    before = _cards(body, baseline, today, "baseline", outcome)
    after = _cards(body, candidate, today, "new rules", outcome)
    if before is None or after is None:
        return outcome
    for key, seen in after.items():
        if key not in before:
            outcome.added.append(seen)
        elif before[key] != seen:
            outcome.changed.append((before[key], seen))
        else:
            outcome.unchanged += 1
    outcome.removed = [seen for key, seen in before.items() if key not in after]
    return outcome


def _cards(
    body: Any, rule_set: RuleSet, today: date, which: str, outcome: Outcome
) -> dict[tuple[str, str], Seen] | None:
    try:
        request = service.parse_request(body)
        chosen = rule_set.service_for(request.hook)
        if chosen is None:
            raise ClientError.of(400, "not-supported", f"no service for hook '{request.hook}'")
        cards = service.call(chosen, request, rule_set, today).cards
    except ClientError as error:
        outcome.errors.append(f"{which}: {error}")
        return None
    return {(Seen.of(card).rule, card.uuid): Seen.of(card) for card in cards}


def _suggested_dose(card: Card) -> str | None:
    """The dose an update suggestion would set: "500 mg/m2"."""
    for suggestion in card.suggestions or ():
        for action in suggestion.actions or ():
            resource = action.resource if action.type == "update" else None
            for dosage in (resource or {}).get("dosageInstruction") or ():
                for dose_and_rate in dosage.get("doseAndRate") or ():
                    quantity = dose_and_rate.get("doseQuantity") or {}
                    if "value" in quantity:
                        return f"{quantity['value']} {quantity.get('unit', '')}".strip()
    return None


def report(outcomes: Sequence[Outcome], baseline: RuleSet, candidate: RuleSet) -> str:
    """The review, as text: one block per request that changed, then a count."""
    lines: list[str] = []
    for outcome in outcomes:
        if not outcome.differs:
            continue
        lines.append(f"{outcome.name} ({outcome.hook})")
        lines += [f"  ! {error}" for error in outcome.errors]
        lines += [f"  + {_say(seen)}" for seen in outcome.added]
        lines += [f"  - {_say(seen)}" for seen in outcome.removed]
        for old, new in outcome.changed:
            lines.append(f"  ~ {new.rule}")
            for name in ("indicator", "summary", "dose"):
                was, now = getattr(old, name), getattr(new, name)
                if was != now:
                    lines.append(f"      {name}: {was!r}")
                    lines.append(f"      {' ' * len(name)}  -> {now!r}")
        lines.append("")
    changed = sum(outcome.differs for outcome in outcomes)
    lines.append(
        f"{len(outcomes)} request{'s' if len(outcomes) != 1 else ''}: {changed} changed, "
        f"{len(outcomes) - changed} unchanged (baseline rules {baseline.version} "
        f"from {baseline.directory}, new rules {candidate.version} from {candidate.directory})"
    )
    return "\n".join(lines)


def _say(seen: Seen) -> str:
    dose = f" (dose {seen.dose})" if seen.dose else ""
    return f"{seen.rule} [{seen.indicator}] {seen.summary!r}{dose}"


def as_json(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    def card(seen: Seen) -> dict[str, Any]:
        return {
            "rule": seen.rule,
            "indicator": seen.indicator,
            "summary": seen.summary,
            "dose": seen.dose,
        }

    return [
        {
            "request": o.name,
            "hook": o.hook,
            "added": [card(s) for s in o.added],
            "removed": [card(s) for s in o.removed],
            "changed": [{"before": card(a), "after": card(b)} for a, b in o.changed],
            "unchanged": o.unchanged,
            "errors": o.errors,
        }
        for o in outcomes
    ]
