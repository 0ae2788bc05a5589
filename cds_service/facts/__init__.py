"""FHIR resources turned into flat, typed facts, each keeping the ids of the resources it came from.

Facts are what rule conditions test and what card templates fill in. What the rule syntax
cannot express is computed here, generically, from the knowledge tables: the activity score of
a diplotype, the effective score after the inhibitors a patient takes, whether an order's
indication is malignant, the menopausal status, the cancers and oncology findings and their
trends, the Calvert dose of an AUC-dosed order, the cumulative anthracycline dose an order
brings. A resource that cannot be read becomes an
:class:`Unreadable` fact instead of disappearing, so that a check that could not run is said
on a card and never passes as "no conflict".
"""

from __future__ import annotations

from datetime import date

from ..knowledge import Knowledge
from ..record import PatientRecord
from . import clinical, cumulative, dosing, medications, oncology, pgx
from .types import (
    FACT_TYPES,
    ORDER_FACTS,
    ActiveMedication,
    AucDose,
    Cancer,
    CumulativeDose,
    DraftMedication,
    Fact,
    Finding,
    FindingTrend,
    Genotype,
    Inhibitor,
    MissingFinding,
    MissingResult,
    PatientFact,
    Phenotype,
    PhenotypeGroup,
    Unreadable,
    schema,
)

__all__ = [
    "FACT_TYPES",
    "ORDER_FACTS",
    "ActiveMedication",
    "AucDose",
    "Cancer",
    "CumulativeDose",
    "DraftMedication",
    "Fact",
    "Finding",
    "FindingTrend",
    "Genotype",
    "Inhibitor",
    "MissingFinding",
    "MissingResult",
    "PatientFact",
    "Phenotype",
    "PhenotypeGroup",
    "Unreadable",
    "extract",
    "schema",
]


def extract(record: PatientRecord, knowledge: Knowledge, today: date) -> list[Fact]:
    """Every fact the rules can test, from one patient's record and draft orders."""
    conditions = clinical.read_conditions(record)
    found: list[Fact] = [*conditions.unreadable]
    patient = list(clinical.patient(record, knowledge, today, conditions))
    found.extend(patient)
    orders = list(medications.draft_orders(record, knowledge, conditions))
    active = list(medications.active_medications(record, knowledge))
    inhibitors = list(medications.inhibitors([*orders, *active], knowledge))
    found.extend([*orders, *active, *inhibitors])
    found.extend(pgx.pharmacogenomics(record, knowledge, inhibitors))
    found.extend(oncology.cancers(conditions, knowledge))
    results = list(oncology.findings(record, knowledge))
    found.extend(results)
    drafts = [o for o in orders if isinstance(o, DraftMedication)]
    latest = {f.finding: f for f in results if isinstance(f, Finding)}
    found.extend(
        dosing.auc_doses(
            record,
            knowledge,
            drafts,
            next((p for p in patient if isinstance(p, PatientFact)), None),
            latest,
        )
    )
    taken = [a for a in active if isinstance(a, ActiveMedication)]
    found.extend(cumulative.cumulative_doses(record, knowledge, drafts, taken, latest))
    return found
