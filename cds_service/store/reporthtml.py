"""The report as one self-contained HTML file: a table and an SVG chart per rule, no script.

A committee opens it from a mail attachment: no external style, font, image or script.
"""

from __future__ import annotations

from html import escape

from .report import Report, RuleReport
from .reportformats import period, rate_text

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}
.flag{color:#a00;font-weight:bold}section{margin:1.5em 0}h2{font-size:1.1em;margin:.2em 0}
"""
_WIDTH, _BAR = 420, 18
_COLOURS = {"accepted": "#2e7d32", "overridden": "#c62828", "ignored": "#9e9e9e"}


def as_html(report: Report) -> str:
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        "<title>CDS feedback report</title>",
        f"<style>{_STYLE}</style>",
        "<h1>What clinicians did with the cards</h1>",
        f"<p>{escape(period(report))} Override rate: overridden / (accepted + overridden), ",
        f"95 % Wilson interval; flagged at {report.threshold:.0%} or more.</p>",
    ]
    parts += [_section(report, rule) for rule in report.rules]
    if not report.rules:
        parts.append("<p>No card was served in this period.</p>")
    for service, count in sorted(report.unknown.items()):
        parts.append(
            f"<p>Feedback on cards this service never served: {count} ({escape(service)})</p>"
        )
    return "\n".join(parts) + "\n</html>\n"


def _section(report: Report, rule: RuleReport) -> str:
    flag = "<span class=flag>FLAGGED</span> " if report.flagged(rule) else ""
    cells = [
        ("shown", rule.shown),
        ("cards", rule.cards),
        ("patients", rule.patients),
        ("accepted", rule.accepted),
        ("overridden", rule.overridden),
        ("ignored", rule.ignored),
    ]
    head = "".join(f"<th>{name}</th>" for name, _ in cells)
    values = "".join(f"<td>{value}</td>" for _, value in cells)
    lists = _list("Override reasons", rule.reasons.most_common())
    lists += _list("Suggestions taken", rule.suggestions.most_common())
    return (
        f"<section><h2>{flag}{escape(rule.rule_id)} <small>rules {escape(rule.version)}"
        f"</small></h2><p>{rate_text(rule)}</p>{_chart(report, rule)}"
        f"<table><tr>{head}</tr><tr>{values}</tr></table>{lists}</section>"
    )


def _chart(report: Report, rule: RuleReport) -> str:
    """Cards by outcome as one stacked bar; below it the override rate, its interval, the flag."""
    bars, x = [], 0.0
    for outcome, count in (
        ("accepted", rule.accepted),
        ("overridden", rule.overridden),
        ("ignored", rule.ignored),
    ):
        width = _WIDTH * count / rule.cards if rule.cards else 0
        bars.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="{_BAR}" '
            f'fill="{_COLOURS[outcome]}"><title>{outcome}: {count}</title></rect>'
        )
        x += width
    threshold = _WIDTH * report.threshold
    rate = ""
    if rule.rate is not None and rule.interval is not None:
        low, high = (_WIDTH * bound for bound in rule.interval)
        point = _WIDTH * rule.rate
        rate = (
            f'<line x1="{low:.1f}" x2="{high:.1f}" y1="34" y2="34" stroke="#c62828" '
            f'stroke-width="2"/><circle cx="{point:.1f}" cy="34" r="4" fill="#c62828"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH + 60}" height="48" '
        f'role="img" aria-label="outcomes and override rate">{"".join(bars)}{rate}'
        f'<line x1="{threshold:.1f}" x2="{threshold:.1f}" y1="24" y2="44" stroke="#000" '
        f'stroke-dasharray="2,2"/><text x="{_WIDTH + 6}" y="38" font-size="11">rate</text></svg>'
    )


def _list(title: str, counted: list[tuple[str, int]]) -> str:
    if not counted:
        return ""
    items = "".join(f"<li>{n} &times; {escape(label)}</li>" for label, n in counted)
    return f"<p>{title}:</p><ul>{items}</ul>"
