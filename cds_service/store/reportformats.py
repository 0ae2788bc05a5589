"""The report as a table to read, CSV for a spreadsheet, or JSON for another tool."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from .report import Report, RuleReport

COLUMNS = (
    "rule",
    "rule_set_version",
    "shown",
    "cards",
    "patients",
    "accepted",
    "overridden",
    "ignored",
    "override_rate",
    "ci95_low",
    "ci95_high",
    "flagged",
    "override_reasons",
    "suggestions_taken",
)


def rows(report: Report) -> list[dict[str, Any]]:
    """One flat row per rule and rule-set version, the columns of :data:`COLUMNS`."""
    return [_row(report, rule) for rule in report.rules]


def _row(report: Report, rule: RuleReport) -> dict[str, Any]:
    low, high = rule.interval or (None, None)
    return {
        "rule": rule.rule_id,
        "rule_set_version": rule.version,
        "shown": rule.shown,
        "cards": rule.cards,
        "patients": rule.patients,
        "accepted": rule.accepted,
        "overridden": rule.overridden,
        "ignored": rule.ignored,
        "override_rate": _round(rule.rate),
        "ci95_low": _round(low),
        "ci95_high": _round(high),
        "flagged": report.flagged(rule),
        "override_reasons": _listed(rule.reasons),
        "suggestions_taken": _listed(rule.suggestions),
    }


def as_json(report: Report) -> str:
    document = {
        "since": report.since.isoformat() if report.since else None,
        "until": report.until.isoformat() if report.until else None,
        "flagAbove": report.threshold,
        "rules": [
            row | {"override_reasons": dict(r.reasons), "suggestions_taken": dict(r.suggestions)}
            for row, r in zip(rows(report), report.rules, strict=True)
        ],
        "unknownCardFeedback": report.unknown,
    }
    return json.dumps(document, indent=2) + "\n"


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(report))
    return out.getvalue()


def as_table(report: Report) -> str:
    """What a committee member reads in a terminal: one block per rule, flagged ones marked."""
    lines = [period(report), f"Flagged: override rate at or above {report.threshold:.0%}.", ""]
    for rule in report.rules:
        mark = "FLAGGED " if report.flagged(rule) else ""
        lines.append(f"{mark}{rule.rule_id} (rules {rule.version}): {rate_text(rule)}")
        lines.append(
            f"  shown {rule.shown} times, {rule.cards} cards, {rule.patients} patients: "
            f"accepted {rule.accepted}, overridden {rule.overridden}, ignored {rule.ignored}"
        )
        lines += [f"  reason: {n} x {reason}" for reason, n in rule.reasons.most_common()]
        lines += [f"  taken: {n} x {label}" for label, n in rule.suggestions.most_common()]
    if not report.rules:
        lines.append("No card was served in this period.")
    for service, count in sorted(report.unknown.items()):
        lines.append(f"Feedback on cards this service never served: {count} ({service})")
    return "\n".join(lines) + "\n"


def rate_text(rule: RuleReport) -> str:
    """ "override rate 62% (95 % CI 48%-74%)", or that no one answered a card of the rule."""
    if rule.rate is None or rule.interval is None:
        return "no answers yet"
    low, high = rule.interval
    return f"override rate {rule.rate:.0%} (95 % CI {low:.0%}-{high:.0%})"


def period(report: Report) -> str:
    since = report.since.isoformat() if report.since else "the first card"
    until = report.until.isoformat() if report.until else "now"
    return f"Cards served from {since} to {until}."


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _listed(counts: Counter[str]) -> str:
    return "; ".join(f"{label}: {n}" for label, n in counts.most_common())
