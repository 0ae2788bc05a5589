"""The fact types: flat, typed, each keeping the ids of the resources it came from.

Every attribute is text or a number, never both, so the engine cannot confuse ``"123"`` with
``123``; ``schema()`` is what rule conditions are checked against.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_type_hints

from .carefacts import CareMissing, CareOnFile, ChecksNotRun, PatientFact, Unreadable
from .diseasefacts import (
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
from .drugfacts import (
    ActiveMedication,
    AucDose,
    CumulativeDose,
    DraftMedication,
    Inhibitor,
    PastMedication,
    TargetedOrder,
)
from .fact import Fact
from .pgxfacts import Genotype, MissingResult, Phenotype, PhenotypeGroup

ORDER_FACTS: tuple[type[Fact], ...] = (DraftMedication, AucDose, CumulativeDose)
"""Facts about one draft order (``order``, ``drug``): a remove-order suggestion may name them."""

DRUG_ORDER_FACTS: tuple[type[Fact], ...] = (*ORDER_FACTS, TargetedOrder, Inhibitor)
"""Facts that can be about a draft drug order (an inhibitor of ``origin`` draft): a check
testing one may concern the drugs being ordered (``ruleset/notrun.py``). A draft test order
(``draft_test``) is no drug: checks of it alone give information, since a test signed without
them does not put the patient at risk the way an unchecked drug or dose can."""

FACT_TYPES: tuple[type[Fact], ...] = (
    PatientFact,
    DraftMedication,
    ActiveMedication,
    PastMedication,
    Inhibitor,
    Genotype,
    Phenotype,
    PhenotypeGroup,
    MissingResult,
    Cancer,
    AdvancedCancer,
    Finding,
    FindingTrend,
    MissingFinding,
    DraftTest,
    CareOnFile,
    CareMissing,
    PerformedProcedure,
    DraftProcedure,
    AucDose,
    BiomarkerResult,
    TargetedOrder,
    CumulativeDose,
    Unreadable,
    ChecksNotRun,
)


def schema() -> dict[str, dict[str, type]]:
    """Fact type -> attribute -> ``str`` or ``float``: what a rule condition may test."""
    result: dict[str, dict[str, type]] = {}
    for fact_type in FACT_TYPES:
        hints = get_type_hints(fact_type)
        result[fact_type.kind] = {
            item.name: str if str in _args(hints[item.name]) else float
            for item in fields(fact_type)
            if item.name != "sources"
        }
    return result


def _args(hint: Any) -> tuple[Any, ...]:
    return getattr(hint, "__args__", (hint,))
