"""FHIR resources turned into flat, typed facts, each keeping the ids of the resources it came from.

Facts are what rule conditions test and what card templates fill in. What the rule syntax
cannot express is computed here, generically, from the knowledge tables: the activity score of
a diplotype, the effective score after the inhibitors a patient takes, whether an order's
indication is malignant, the menopausal status, the cancers, procedures and oncology findings
and their trends, whether the cancer is advanced and since when (or staged and not advanced),
the supportive care on file, the Calvert dose of an AUC-dosed order, the cumulative
anthracycline dose an order brings, the biomarkers on file and what a targeted order needs. A
resource that cannot be read becomes an :class:`Unreadable` fact instead of disappearing, so
that a check that could not run is said on a card and never passes as "no conflict"; those of
one kind are merged into one fact, so that the answer grows with the kinds, not the count. Each
reader runs as a step of its own (``steps.py``), declaring the fact types it yields: a defect in
one loses those types, and those of the readers that used what it would have given, and nothing
else (:class:`PartlyRead`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from . import (
    assay_orders,
    clinical,
    course,
    cumulative,
    disease,
    dosing,
    medications,
    performed,
    pgx,
    supportive,
    targeted,
    trend,
)
from .grouped import grouped, unreported
from .medications import UNIDENTIFIED_DRUG
from .steps import Lost, LostInput, Steps
from .types import DRUG_ORDER_FACTS, FACT_TYPES, ORDER_FACTS, schema
from .types.carefacts import CareMissing, CareOnFile, ChecksNotRun, PatientFact, Unreadable
from .types.diseasefacts import (
    AdvancedCancer,
    BiomarkerResult,
    Cancer,
    DraftProcedure,
    DraftTest,
    Finding,
    FindingTrend,
    MissingFinding,
    PerformedProcedure,
)
from .types.drugfacts import (
    ActiveMedication,
    AucDose,
    CumulativeDose,
    DraftMedication,
    Inhibitor,
    PastMedication,
    TargetedOrder,
)
from .types.fact import Fact
from .types.pgxfacts import Genotype, MissingResult, Phenotype, PhenotypeGroup

__all__ = [
    "DRUG_ORDER_FACTS",
    "FACT_TYPES",
    "ORDER_FACTS",
    "UNIDENTIFIED_DRUG",
    "ActiveMedication",
    "AdvancedCancer",
    "AucDose",
    "BiomarkerResult",
    "Cancer",
    "CareMissing",
    "CareOnFile",
    "ChecksNotRun",
    "CumulativeDose",
    "DraftMedication",
    "DraftProcedure",
    "DraftTest",
    "Fact",
    "Finding",
    "FindingTrend",
    "Genotype",
    "Inhibitor",
    "LostInput",
    "MissingFinding",
    "MissingResult",
    "PartlyRead",
    "PatientFact",
    "PerformedProcedure",
    "Phenotype",
    "PhenotypeGroup",
    "TargetedOrder",
    "Unreadable",
    "extract",
    "schema",
]


class PartlyRead(Exception):
    """Some readers of the record failed (``steps.py``): the facts of the others, and per lost
    step the fact kinds it yields and, where it failed on its own, what it raised."""

    def __init__(
        self,
        found: list[Fact],
        lost: Mapping[str, frozenset[str]],
        errors: list[tuple[str, Exception]],
    ):
        super().__init__(f"the record was read in part: {', '.join(lost)} lost")
        self.found, self.lost, self.errors = found, lost, errors

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset().union(*self.lost.values())


_DRAFTS = (DraftMedication, Unreadable)
_RESULTS = (Finding, FindingTrend, MissingFinding, Unreadable)
_PGX = (Genotype, Phenotype, PhenotypeGroup, MissingResult, Unreadable)


def extract(record: PatientRecord, knowledge: Knowledge, today: date) -> list[Fact]:
    """Every fact the rules can test, from one patient's record and draft orders.

    Each reader is a step of its own (``steps.py``): should one fail, :class:`PartlyRead`
    carries the facts of the readers that do not depend on it.
    """
    s = Steps()
    conditions = s.value(
        "conditions", (Unreadable,), lambda: clinical.read_conditions(record, knowledge)
    )
    noted = s.facts("conditions", (Unreadable,), lambda: conditions.unreadable)
    patient = s.facts(
        "patient",
        (PatientFact, Unreadable),
        lambda: clinical.patient(record, knowledge, today, conditions),
    )
    orders = s.facts(
        "draft orders", _DRAFTS, lambda: medications.draft_orders(record, knowledge, conditions)
    )
    active = s.facts(
        "active medications",
        (ActiveMedication, Unreadable),
        lambda: medications.active_medications(record, knowledge),
    )
    done = s.facts(
        "procedures",
        (PerformedProcedure, Unreadable),
        lambda: performed.procedures(record, knowledge),
    )
    procedures = s.value(
        "procedures", (), lambda: [p for p in done if isinstance(p, PerformedProcedure)]
    )
    doses = s.value("first doses", (), lambda: trend.first_doses(record, knowledge))
    results = s.facts(
        "findings", _RESULTS, lambda: disease.findings(record, knowledge, procedures, doses)
    )
    readings = s.value(
        "findings", (), lambda: {f.finding: f for f in results if isinstance(f, Finding)}
    )
    drafted = s.facts(
        "courses",
        _DRAFTS,
        lambda: course.with_course(
            record,
            knowledge,
            [o for o in orders if isinstance(o, DraftMedication)],
            [m for m in active if isinstance(m, ActiveMedication)],
            readings,  # an order in mg is set against a full dose per m2 or per kg
        ),
    )
    unchosen = s.facts(
        "draft orders", _DRAFTS, lambda: [o for o in orders if not isinstance(o, DraftMedication)]
    )
    past = s.facts(
        "past medications",
        (PastMedication, Unreadable),
        lambda: medications.past_medications(record, knowledge, today),
    )
    inhibitors = s.facts(
        "inhibitors",
        (Inhibitor,),
        lambda: medications.inhibitors([*drafted, *unchosen, *active], knowledge),
    )
    genomic = s.facts(
        "pharmacogenomics", _PGX, lambda: pgx.pharmacogenomics(record, knowledge, inhibitors)
    )
    cancers = s.facts("cancers", (Cancer,), lambda: disease.cancers(conditions, knowledge, today))
    planned = s.facts(
        "draft procedures",
        (DraftProcedure, Unreadable),
        lambda: performed.draft_procedures(record, knowledge),
    )
    advanced = s.facts(
        "advanced cancer",
        (AdvancedCancer,),
        lambda: disease.advanced_cancer(conditions, readings.values(), knowledge, today),
    )
    extent = s.value("extent", (), lambda: disease.extent(advanced, readings, knowledge))
    care = s.facts(
        "supportive care",
        (CareOnFile, CareMissing, Unreadable),
        lambda: supportive.care(record, knowledge),
    )
    tests = s.facts(
        "draft tests", (DraftTest, Unreadable), lambda: assay_orders.draft_tests(record, knowledge)
    )
    drafts = s.value("courses", (), lambda: [o for o in drafted if isinstance(o, DraftMedication)])
    person = s.value(
        "patient", (), lambda: next((p for p in patient if isinstance(p, PatientFact)), None)
    )
    taking = s.value(
        "active medications", (), lambda: [m for m in active if isinstance(m, ActiveMedication)]
    )
    auc = s.facts(
        "carboplatin doses",
        (AucDose, Unreadable),
        lambda: dosing.auc_doses(record, knowledge, drafts, person, readings),
    )
    cumulated = s.facts(
        "cumulative doses",
        (CumulativeDose, Unreadable),
        lambda: cumulative.cumulative_doses(
            record, knowledge, drafts, taking, readings, person, procedures
        ),
    )
    matched = s.facts(
        "targeted therapy",
        (TargetedOrder, BiomarkerResult, Unreadable),
        lambda: targeted.biomarkers(
            record, knowledge, results, cancers, drafts, taking, extent, past
        ),
    )
    parts = [noted, patient, past, drafted, unchosen, active, inhibitors, genomic, cancers, done]
    parts += [planned, results, advanced, care, tests, auc, cumulated, matched]
    found = [fact for part in parts if not isinstance(part, Lost) for fact in part]
    found = grouped([*found, *unreported(record, found)])
    if s.lost:
        raise PartlyRead(found, s.lost, s.errors)
    return found
