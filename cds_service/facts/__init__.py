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
one kind are merged into one fact, so that the answer grows with the kinds, not the count.
"""

from __future__ import annotations

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
    "MissingFinding",
    "MissingResult",
    "PatientFact",
    "PerformedProcedure",
    "Phenotype",
    "PhenotypeGroup",
    "TargetedOrder",
    "Unreadable",
    "extract",
    "schema",
]


def extract(record: PatientRecord, knowledge: Knowledge, today: date) -> list[Fact]:
    """Every fact the rules can test, from one patient's record and draft orders."""
    conditions = clinical.read_conditions(record, knowledge)
    found: list[Fact] = [*conditions.unreadable]
    patient = list(clinical.patient(record, knowledge, today, conditions))
    found.extend(patient)
    orders = list(medications.draft_orders(record, knowledge, conditions))
    active = list(medications.active_medications(record, knowledge))
    done = list(performed.procedures(record, knowledge))
    procedures = [p for p in done if isinstance(p, PerformedProcedure)]
    doses = trend.first_doses(record, knowledge)
    results = list(disease.findings(record, knowledge, procedures, doses))
    readings = {f.finding: f for f in results if isinstance(f, Finding)}
    orders = [
        *course.with_course(
            record,
            knowledge,
            [o for o in orders if isinstance(o, DraftMedication)],
            [m for m in active if isinstance(m, ActiveMedication)],
            readings,  # an order in mg is set against a full dose per m2 or per kg
        ),
        *(o for o in orders if not isinstance(o, DraftMedication)),
    ]
    past = list(medications.past_medications(record, knowledge, today))
    found.extend(past)
    inhibitors = list(medications.inhibitors([*orders, *active], knowledge))
    found.extend([*orders, *active, *inhibitors])
    found.extend(pgx.pharmacogenomics(record, knowledge, inhibitors))
    cancers = list(disease.cancers(conditions, knowledge, today))
    found.extend(cancers)
    found.extend(done)
    found.extend(performed.draft_procedures(record, knowledge))
    found.extend(results)
    advanced = list(disease.advanced_cancer(conditions, readings.values(), knowledge, today))
    found.extend(advanced)
    extent = disease.extent(advanced, readings, knowledge)
    found.extend(supportive.care(record, knowledge))
    found.extend(assay_orders.draft_tests(record, knowledge))
    drafts = [o for o in orders if isinstance(o, DraftMedication)]
    person = next((p for p in patient if isinstance(p, PatientFact)), None)
    found.extend(dosing.auc_doses(record, knowledge, drafts, person, readings))
    taking = [m for m in active if isinstance(m, ActiveMedication)]
    found.extend(
        cumulative.cumulative_doses(record, knowledge, drafts, taking, readings, person, procedures)
    )
    found.extend(
        targeted.biomarkers(record, knowledge, results, cancers, drafts, taking, extent, past)
    )
    return grouped([*found, *unreported(record, found)])
