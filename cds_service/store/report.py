"""The rules committee's report: per rule and rule-set version, what clinicians did with its cards.

Counted per card (a card uuid: one finding for one patient and evidence, perhaps shown at both
order-select and order-sign): accepted or overridden by its latest feedback, ignored with none.
The override rate is overridden / (accepted + overridden), with a Wilson 95 % interval, since a
card nobody answered says nothing either way. Feedback naming a card the store never served is
counted apart, per service.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, distinct, exists, func, select

from .db import feedback, served_card

Z95 = 1.959964


@dataclass
class RuleReport:
    rule_id: str
    version: str
    shown: int
    """Times a card of the rule was served (the same card at select and sign counts twice)."""
    cards: int
    patients: int
    accepted: int = 0
    overridden: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    suggestions: Counter[str] = field(default_factory=Counter)

    @property
    def ignored(self) -> int:
        return self.cards - self.accepted - self.overridden

    @property
    def rate(self) -> float | None:
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.overridden, self.accepted + self.overridden)


@dataclass
class Report:
    rules: list[RuleReport]
    unknown: dict[str, int]
    """Feedback items naming a card uuid never served, per service."""
    threshold: float
    since: datetime | None = None
    until: datetime | None = None

    def flagged(self, rule: RuleReport) -> bool:
        return rule.rate is not None and rule.rate >= self.threshold


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: sound at 0 %, 100 % and small counts."""
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def build(
    engine: Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    rule: str | None = None,
    threshold: float = 0.8,
) -> Report:
    """The report over cards served in [since, until), for one rule or all."""
    where = []
    if since is not None:
        where.append(served_card.c.served_at >= since)
    if until is not None:
        where.append(served_card.c.served_at < until)
    if rule is not None:
        where.append(served_card.c.rule_id == rule)
    key = (served_card.c.rule_id, served_card.c.rule_set_version)
    totals = (
        select(
            *key,
            func.count(),
            func.count(distinct(served_card.c.card_uuid)),
            func.count(distinct(served_card.c.patient_hash)),
        )
        .where(*where)
        .group_by(*key)
    )
    # Driven by feedback (the smaller table), each item joined to the cards it names through the
    # card-uuid index; grouping by the item folds a card served at select and at sign into one.
    answers = (
        select(
            *key,
            feedback.c.card_uuid,
            feedback.c.outcome,
            feedback.c.outcome_at,
            feedback.c.id,
            feedback.c.override_code,
            feedback.c.override_display,
            feedback.c.user_comment.is_not(None),
            feedback.c.accepted_suggestions,
            func.max(served_card.c.suggestion_uuids),
            func.max(served_card.c.suggestion_labels),
        )
        .join(served_card, served_card.c.card_uuid == feedback.c.card_uuid)
        .where(*where)
        .group_by(*key, feedback.c.id)
    )
    unknown_where = [~exists().where(served_card.c.card_uuid == feedback.c.card_uuid)]
    if since is not None:
        unknown_where.append(feedback.c.received_at >= since)
    if until is not None:
        unknown_where.append(feedback.c.received_at < until)
    unknown = (
        select(feedback.c.service, func.count()).where(*unknown_where).group_by(feedback.c.service)
    )
    latest: dict[tuple[str, str, str], tuple[datetime, int, str]] = {}
    with engine.connect() as connection:
        rules = {(r, v): RuleReport(r, v, *counts) for r, v, *counts in connection.execute(totals)}
        for rule_id, version, card, outcome, at, number, *answer in connection.execute(answers):
            _count_answer(rules[(rule_id, version)], outcome, *answer)
            mark = (at, number, outcome)
            latest[(rule_id, version, card)] = max(latest.get((rule_id, version, card), mark), mark)
        lost = {str(service): int(count) for service, count in connection.execute(unknown).all()}
    for (rule_id, version, _), (_, _, outcome) in latest.items():
        report = rules[(rule_id, version)]
        setattr(report, outcome, getattr(report, outcome) + 1)
    ordered = sorted(rules.values(), key=_by_override_rate)
    return Report(ordered, lost, threshold, since, until)


def _by_override_rate(rule: RuleReport) -> tuple[bool, float, int, str]:
    """Highest override rate first, rules with no answer last; then the most shown."""
    return (rule.rate is None, -(rule.rate or 0.0), -rule.shown, rule.rule_id)


def _count_answer(
    report: RuleReport,
    outcome: str,
    code: str | None,
    display: str | None,
    commented: bool,
    accepted: str,
    uuids: str,
    labels: str | None,
) -> None:
    """One feedback item: its override reason, or the suggestions it took, by label."""
    if outcome == "overridden":
        reason = f"{display} ({code})" if code else "no reason coded"
        report.reasons[reason + (", with a comment" if commented and not code else "")] += 1
        return
    named = dict(zip(uuids.split(), _labels(labels), strict=False))
    for taken in accepted.split():
        report.suggestions[named.get(taken) or "a suggestion the card did not offer"] += 1


def _labels(stored: str | None) -> list[str]:
    value: Any = json.loads(stored) if stored else []
    return [str(label) for label in value]
