"""How a measured finding moved: from a baseline to the latest result.

The HER2 drugs' labels measure an LVEF fall "from baseline", the value before the drug was
started. A record that reaches back years (an LVEF before an anthracycline) makes the fall look
larger if the earliest result is taken, so a finding whose table entry (``knowledge/
oncology.yaml``) names ``baseline_before_first_dose`` drugs gets one trend per drug given: from
the latest result on or before its first dose on file (administrations, finished and active
orders) to the latest result. When no result was taken before that dose, the earliest on file is
the baseline, and the trend's ``baseline_basis`` says so in the table's words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain

from ..knowledge.oncology import FindingSpec, TrendBaseline
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from .medications import Given, given
from .types.diseasefacts import Finding, FindingTrend
from .types.fact import Fact

ORDERS_IN_COURSE = ("active", "on-hold")
"""Orders of a drug the patient is on: their date bounds when it was started too."""

Point = tuple[str, float, Finding]


def first_doses(record: PatientRecord, knowledge: Knowledge) -> dict[str, Given]:
    """The earliest dated dose on file of each drug a finding's baseline is set by."""
    wanted = {
        drug
        for spec in knowledge.oncology.findings.values()
        if spec.baseline
        for drug in spec.baseline.drugs
    }
    if not wanted:
        return {}
    history = knowledge.drugs
    statuses = (*history.request_statuses, *ORDERS_IN_COURSE)
    first: dict[str, Given] = {}
    for item in given(record, knowledge, wanted, history.administration_statuses, statuses):
        known = first.get(item.ingredient)
        if item.date and (known is None or item.date < (known.date or "")):
            first[item.ingredient] = item
    return first


def trends(
    spec: FindingSpec, latest: Finding, older: Iterable[Fact], doses: Mapping[str, Given]
) -> Iterable[Fact]:
    """The older results (every one is read: the baseline is among them) and the trends.

    Only dated numbers count, and the latest must be the result the :class:`Finding` uses;
    a trend needs a baseline other than the latest result.
    """
    points: list[Point] = []
    for result in chain([latest], older):
        if not isinstance(result, Finding):
            yield result
        elif result.number is not None and result.date:
            points.append((result.date, result.number, result))
    if len(points) < 2 or points[0][2] is not latest:
        return
    if spec.baseline is None:
        yield _trend(spec, points, min(points, key=lambda point: point[0]))
        return
    for drug in spec.baseline.drugs:
        dose = doses.get(drug)
        if dose is not None and dose.date:
            yield from _since(spec, spec.baseline, points, drug, dose)


def _since(
    spec: FindingSpec, table: TrendBaseline, points: list[Point], drug: str, dose: Given
) -> Iterable[FindingTrend]:
    """The trend from the latest result on the day of the first dose or before it."""
    day = (dose.date or "")[:10]
    before = [point for point in points if point[0][:10] <= day]
    baseline = max(before, key=lambda p: p[0]) if before else min(points, key=lambda p: p[0])
    if baseline[2] is points[0][2]:
        return  # the latest result is the baseline: nothing measured since
    words = (table.before if before else table.after).format(
        drug=drug, dose=dose.resource, dose_date=day
    )
    yield _trend(
        spec,
        points,
        baseline,
        since=drug,
        first_dose=dose.resource,
        first_dose_date=day,
        baseline_basis=words,
    )


def since_sources(since: Mapping[str, str]) -> list[str]:
    """The first dose the baseline is set by, cited with the results."""
    return [since["first_dose"]] if "first_dose" in since else []


def _trend(spec: FindingSpec, points: list[Point], baseline: Point, **since: str) -> FindingTrend:
    first_date, first, result = baseline
    last_date, last, latest = points[0]
    return FindingTrend(
        finding=spec.name,
        baseline=first,
        baseline_date=first_date,
        latest=last,
        latest_date=last_date,
        change=last - first,
        count=float(len(points)),
        unit=spec.unit,
        baseline_source=result.sources[0] if result.sources else None,
        sources=tuple(dict.fromkeys([*result.sources, *latest.sources, *since_sources(since)])),
        **since,
    )
