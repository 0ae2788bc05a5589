"""Biomarkers on file and targeted drugs on order, read through ``rules/knowledge/biomarkers.yaml``.

Each biomarker of the table gets one status for the patient: ``present``, ``negative`` (tested
and not found: a pertinent negative, a negative finding, a variant of the gene whose
significance rules it out), ``not interpreted`` (a result on file that cannot be read as either,
such as another variant of the gene or a result that is not valid FHIR) or ``not on file``. A
present status wins over the others, then not interpreted over negative, so that a
negative result never hides a positive one and an unreadable one is never taken as negative.

The facts put this together with the patient's cancers, disease extent and orders, which the
rule syntax cannot join: a :class:`BiomarkerResult` per cancer site names the therapies matched
there (apart, those labelled only for advanced disease when the record does not show it) and
whether one is active, and a :class:`TargetedOrder` per draft order of a drug given only with a
biomarker says what is on file for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..knowledge.biomarkers import Biomarker, FindingMatch, VariantMatch
from ..knowledge.care import ADVANCED
from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from . import variants as variant_reader
from .clinical import tests_ordered
from .disease import NOT_INTERPRETED, Extent
from .dosage import format_number
from .types.carefacts import Unreadable
from .types.diseasefacts import BiomarkerResult, Cancer, Finding
from .types.drugfacts import ActiveMedication, DraftMedication, PastMedication, TargetedOrder
from .types.fact import Fact
from .variants import ABSENT, PRESENT, Variant

NEGATIVE, NOT_ON_FILE = "negative", "not on file"
_RANK = {PRESENT: 0, NOT_INTERPRETED: 1, NEGATIVE: 2, NOT_ON_FILE: 3}
_SEPARATE_RANK = {PRESENT: 0, NOT_INTERPRETED: 1, NOT_ON_FILE: 2, NEGATIVE: 3}
"""Separate indications: an untested biomarker is still an open question, a negative one not."""


@dataclass(frozen=True)
class Status:
    """What the record says of one biomarker, with the results it rests on."""

    status: str
    result: str | None = None
    basis: str | None = None
    category: str | None = None
    origins: tuple[str, ...] = ()
    """Germline, somatic: of the variants the status rests on, where they say."""
    sources: tuple[str, ...] = ()


def biomarkers(
    record: PatientRecord,
    knowledge: Knowledge,
    results: Sequence[Fact],
    cancers: Sequence[Cancer],
    orders: Sequence[DraftMedication],
    active: Sequence[ActiveMedication],
    extent: Extent,
    past: Sequence[PastMedication] = (),
) -> Iterable[Fact]:
    """Biomarker facts per cancer site, targeted-order facts, and the variants not read.

    ``results`` are the oncology findings already read (findings, and unreadable ones);
    ``extent`` is how far the record shows the cancer has spread. A matched drug active or
    given before (``past``: a completed adjuvant course) counts as therapy on file.
    """
    found, broken = variant_reader.read(record, knowledge)
    yield from broken
    findings = {f.finding: f for f in results if isinstance(f, Finding)}
    unusable = [f for f in [*results, *broken] if isinstance(f, Unreadable)]
    table = knowledge.biomarkers.biomarkers
    statuses = {
        name: _status(biomarker, found, findings, unusable) for name, biomarker in table.items()
    }
    sites = list(dict.fromkeys(cancer.site for cancer in cancers))
    present = frozenset(n for n, s in statuses.items() if s.status == PRESENT)
    for name, status in statuses.items():
        if status.status != NOT_ON_FILE:
            yield from _results(table[name], status, sites, [*active, *past], extent, present)
    yield from _targeted_orders(record, knowledge, statuses, sites, orders)


def _targeted_orders(
    record: PatientRecord,
    knowledge: Knowledge,
    statuses: Mapping[str, Status],
    sites: Sequence[str],
    orders: Sequence[DraftMedication],
) -> Iterable[TargetedOrder]:
    """Per draft order of a drug given only with a biomarker here: what is on file for it."""
    table = knowledge.biomarkers
    wanted = {name: b.ordered_when for name, b in table.biomarkers.items() if b.ordered_when}
    ordered = tests_ordered(record, knowledge.genomics.test_order_statuses, wanted)
    for order in orders:
        for requirement in table.requirements_for(order.ingredient or ""):
            here = requirement.sites_here(sites)
            if here is not None and not here:
                continue
            rank = _SEPARATE_RANK if requirement.separate else _RANK
            name, status = min(
                ((n, statuses[n]) for n in requirement.biomarkers),
                key=lambda item: rank[item[1].status],
            )
            others = [  # negative ones beside the untested one the order is read against
                n
                for n in requirement.biomarkers
                if status.status == NOT_ON_FILE and n != name and statuses[n].status == NEGATIVE
            ]
            wrong_origin = bool(status.origins) and requirement.origin not in (
                None,
                *status.origins,
            )
            if status.status == PRESENT and wrong_origin:
                why = f"{status.result}: a {requirement.origin} variant is needed here"
                status = replace(status, status=NOT_INTERPRETED, result=why)
            yield TargetedOrder(
                order=order.order,
                drug=order.drug,
                ingredient=order.ingredient or "",
                biomarker=name,
                accepted=" or ".join(requirement.biomarkers),
                status=status.status,
                result=status.result,
                category=status.category,
                site=next(iter(here if here is not None else sites), None),
                test_ordered=next(
                    (ordered[n] for n in requirement.biomarkers if n in ordered), None
                ),
                negative="; ".join(f"{n}: {statuses[n].result}" for n in others) or None,
                sources=(
                    order.order,
                    *status.sources,
                    *(s for n in others for s in statuses[n].sources),
                ),
            )


def _results(
    biomarker: Biomarker,
    status: Status,
    sites: Sequence[str],
    active: Sequence[ActiveMedication | PastMedication],
    extent: Extent,
    present: frozenset[str],
) -> Iterable[BiomarkerResult]:
    """One fact per cancer site (one without a site when no cancer is on file).

    A drug labelled only for advanced disease is held back (``drugs_if_advanced``) unless the
    record shows advanced cancer, so that a card can say what it depends on.
    """
    for site in sites or [None]:
        drugs: list[str] = []
        held: list[str] = []
        sources: list[str] = []
        if status.status == PRESENT and site is not None:
            for therapy in biomarker.therapies:
                if therapy.applies(site, status.origins) and not therapy.unless & present:
                    now = not therapy.advanced_only or extent.value == ADVANCED
                    chosen = drugs if now else held
                    chosen.extend(d for d in therapy.drugs if d not in chosen)
                    sources.append(therapy.source)
        held = [d for d in held if d not in drugs]
        taking = [m for m in active if m.ingredient in (*drugs, *held)]
        yield BiomarkerResult(
            biomarker=biomarker.name,
            status=status.status,
            result=status.result or "",
            basis=status.basis or "",
            category=status.category,
            origin=", ".join(status.origins) or None,
            site=site,
            extent=extent.value,
            extent_basis=extent.basis,
            drugs=", ".join(drugs) or None,
            drugs_if_advanced=", ".join(held) or None,
            on_therapy=", ".join(_taking(m) for m in taking) or None,
            source="; ".join(sources) or None,
            sources=(
                *status.sources,
                *(extent.sources if sources else ()),
                *(m.resource for m in taking),
            ),
        )


def _taking(medication: ActiveMedication | PastMedication) -> str:
    if isinstance(medication, PastMedication):
        when = f", {medication.date}" if medication.date else ""
        return f"{medication.ingredient} (given before: {medication.resource}{when})"
    return f"{medication.ingredient} ({medication.resource})"


def _status(
    biomarker: Biomarker,
    found: Sequence[Variant],
    findings: Mapping[str, Finding],
    unusable: Sequence[Unreadable],
) -> Status:
    candidates: list[Status] = []
    if biomarker.variant is not None:
        genes = biomarker.variant.genes
        candidates += [_from_variant(biomarker, v) for v in found if genes & set(v.genes)]
        candidates += [_unread(u) for u in unusable if u.gene in genes]
    if biomarker.finding is not None:
        finding = findings.get(biomarker.finding.name)
        if finding is not None:
            candidates.append(_from_finding(biomarker.finding, finding))
        candidates += [_unread(u) for u in unusable if u.finding == biomarker.finding.name]
    return _combine([c for c in candidates if c is not None])


def _combine(candidates: Sequence[Status]) -> Status:
    """The strongest status, with the results of that status together."""
    if not candidates:
        return Status(NOT_ON_FILE)
    best = min(candidates, key=lambda s: _RANK[s.status])
    same = [c for c in candidates if c.status == best.status]
    return Status(
        status=best.status,
        result="; ".join(dict.fromkeys(c.result for c in same if c.result)) or None,
        basis=best.basis,
        category=best.category,
        origins=tuple(dict.fromkeys(o for c in same for o in c.origins)),
        sources=tuple(dict.fromkeys(s for c in same for s in c.sources)),
    )


def _from_variant(biomarker: Biomarker, variant: Variant) -> Status | None:
    match = biomarker.variant
    assert match is not None
    sources = (variant.reference, *variant.interpreted_by)
    origins = (variant.origin,) if variant.origin else ()
    said = variant.describe()
    if variant.found == ABSENT:
        if variant.changes and not _matches(match, variant):
            return None  # a pertinent negative for another change of the gene
        return Status(NEGATIVE, f"{said} (tested, not found)", "variant", sources=sources)
    if variant.found != PRESENT:
        why = f"{said}: its value says neither present nor absent"
        return Status(NOT_INTERPRETED, why, "variant", sources=sources)
    matched = _matches(match, variant)
    by_lab = bool(variant.responsive & _drugs(biomarker))
    if match.specific and not (matched or by_lab):
        why = f"{said}: not {biomarker.title}"
        return Status(NOT_INTERPRETED, why, "variant", origins=origins, sources=sources)
    basis = "variant" if matched or not match.specific else "lab implication"
    if match.significance and variant.significance not in match.significance:
        unknown = variant.significance is None
        why = "clinical significance not stated" if unknown else "not pathogenic"
        status = NOT_INTERPRETED if unknown else NEGATIVE
        return Status(status, f"{said}: {why}", basis, origins=origins, sources=sources)
    return Status(PRESENT, said, basis, origins=origins, sources=sources)


def _matches(match: VariantMatch, variant: Variant) -> bool:
    if any(p.search(text) for p in match.changes for text in variant.changes):
        return True
    if variant.types & match.type_codes:
        return True
    texts = [*variant.type_texts, *variant.changes]
    if any(p.search(text) for p in match.type_words for text in texts):
        return True
    return match.partners and len(variant.genes) > 1


def _drugs(biomarker: Biomarker) -> set[str]:
    return {drug for therapy in biomarker.therapies for drug in therapy.drugs}


def _from_finding(match: FindingMatch, finding: Finding) -> Status:
    status: str | None = None
    if finding.value in match.present:
        status = PRESENT
    elif finding.value in match.negative:
        status = NEGATIVE
    elif match.at_least is not None and finding.number is not None:
        status = PRESENT if finding.number >= match.at_least else NEGATIVE
    category = None
    for reported in match.reported:
        if finding.reported and reported.pattern.search(finding.reported):
            if status in (None, reported.status):
                status, category = reported.status, reported.category
            break
    said = finding.reported or finding.value or "no value"
    if finding.number is not None and match.at_least is not None:
        said = f"{format_number(finding.number)} (threshold {format_number(match.at_least)})"
    return Status(
        status or NOT_INTERPRETED,
        f"{match.name} {said}",
        "finding",
        category=category,
        sources=finding.sources,
    )


def _unread(broken: Unreadable) -> Status:
    why = f"{broken.resource} could not be read: {broken.reason}"
    return Status(NOT_INTERPRETED, why, "unreadable", sources=broken.sources)
