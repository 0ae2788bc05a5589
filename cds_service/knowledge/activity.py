"""Enzyme activity read as a phenotype (``activity`` in ``rules/knowledge/genomics.yaml``).

A quantitative G6PD result says more than a genotype for a heterozygous woman: CPIC guides drug
use by the activity-based phenotype. The activity is read as a percent of normal: sent as a
percent, or divided by the normal the laboratory states (the midpoint of the Observation's own
reference range, in the same unit), or by a site's normal median for that unit in the table.
Without one of those the number cannot be placed and is said to be unreadable, never guessed.
The limits depend on sex (a heterozygous woman's mosaic red cells are at risk at an activity
that is normal for a man), so the bands come per ``Patient.gender``; without a stated sex the
table names which set to use: the stricter one, so an unknown sex never reads as normal sooner.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..protocol.fhir import Code


@dataclass(frozen=True)
class ActivityBand:
    below: float | None
    """Percent of normal the activity is under; None: every activity left."""
    phenotype: str
    label: str


@dataclass(frozen=True)
class Activity:
    gene: str
    codes: frozenset[Code]
    percent_units: frozenset[str]
    normal_medians: Mapping[str, float]
    """Unit as sent -> the site's normal median in that unit (used without a reference range)."""
    bands: Mapping[str, tuple[ActivityBand, ...]]
    """``Patient.gender`` -> its bands, the first whose ``below`` the percent is under."""
    sex_unknown: str
    """The key of ``bands`` used for a sex not stated or without its own bands."""

    def read(
        self, quantity: Any, ranges: list[Any], sex: str | None = None
    ) -> tuple[str | None, str]:
        """(phenotype or None, what was read): ``7.2 U/g Hb = 55% of normal (10-60%)``."""
        if quantity is None or quantity.value is None:
            return None, "no activity value"
        value, unit = float(quantity.value), quantity.unit or quantity.code or ""
        # as a number, not as spelled: "2.0" and "2" are one result, whichever server sent it
        sent = f"{quantity.comparator or ''}{value:g} {unit}".strip()
        if quantity.comparator:
            return None, f"{sent}: a bound, not a value"
        percent = self._percent(value, unit, quantity.code, ranges)
        if percent is None:
            return None, f"{sent}: no normal stated to compare it with"
        limits = sex if sex in self.bands else self.sex_unknown
        band = next(b for b in self.bands[limits] if b.below is None or percent < b.below)
        stated = "" if limits == sex else f"; sex {sex or 'not stated'}: read as {limits}"
        return band.phenotype, f"{sent} = {percent:.0f}% of normal ({band.label}{stated})"

    def _percent(
        self, value: float, unit: str, code: str | None, ranges: list[Any]
    ) -> float | None:
        if unit in self.percent_units or (code or "") in self.percent_units:
            return value
        for stated in ranges:
            low, high = getattr(stated, "low", None), getattr(stated, "high", None)
            if low is None or high is None or low.value is None or high.value is None:
                continue
            if {low.unit or low.code, high.unit or high.code} - {unit, None}:
                continue  # a range in another unit says nothing of this number
            middle = (float(low.value) + float(high.value)) / 2
            return 100 * value / middle if middle > 0 else None
        normal = self.normal_medians.get(unit) or self.normal_medians.get(code or "")
        return 100 * value / normal if normal else None


def activity_problem(entry: Mapping[str, Any], genes: Collection[str]) -> str | None:
    """Why an ``activity`` entry cannot be read: a percent above every band would fall through."""
    if entry["gene"] not in genes:
        return "an unknown gene"
    if entry["sex_unknown"] not in entry["bands"]:
        return f"sex_unknown {entry['sex_unknown']!r} has no bands"
    for sex, bands in entry["bands"].items():
        if bands[-1].get("below") is not None:
            return f"{sex}: no last open band"
    return None


def load_activity(entry: Mapping[str, Any], codes: frozenset[Code]) -> Activity:
    bands = {
        str(sex): tuple(
            ActivityBand(
                None if b.get("below") is None else float(b["below"]), b["phenotype"], b["label"]
            )
            for b in listed
        )
        for sex, listed in entry["bands"].items()
    }
    return Activity(
        gene=entry["gene"],
        codes=codes,
        percent_units=frozenset(entry.get("percent_units") or ()),
        normal_medians={str(k): float(v) for k, v in (entry.get("normal_medians") or {}).items()},
        bands=bands,
        sex_unknown=entry["sex_unknown"],
    )
