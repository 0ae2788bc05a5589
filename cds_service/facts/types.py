"""The fact types: flat, typed, each keeping the ids of the resources it came from.

Every attribute is text or a number, never both, so the engine cannot confuse ``"123"`` with
``123``; ``schema()`` is what rule conditions are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, get_type_hints


@dataclass(frozen=True, kw_only=True, slots=True)
class Fact:
    kind: ClassVar[str]
    label: ClassVar[str]
    sources: tuple[str, ...] = ()

    def engine_view(self) -> dict[str, str | float]:
        """The attributes a rule can test, without empty ones (the engine counts null as set)."""
        view: dict[str, str | float] = {"t": self.kind}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "sources" and value is not None:
                view[item.name] = value
        return view


@dataclass(frozen=True, kw_only=True, slots=True)
class PatientFact(Fact):
    kind = "patient"
    label = "Patient"
    patient_id: str
    sex: str | None = None
    age: float | None = None
    menopause: str | None = None
    """``postmenopausal``, ``premenopausal``, ``unknown`` or ``not applicable``."""
    menopause_basis: str | None = None
    deceased: str | None = None
    """The date of death, or ``yes``, when the Patient is recorded as deceased by the day."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftMedication(Fact):
    kind = "draft_med"
    label = "Draft order"
    order: str
    drug: str
    ingredient: str | None = None
    rxnorm: str | None = None
    identified_by: str | None = None
    dose_value: float | None = None
    dose_unit: str | None = None
    frequency: str | None = None
    indication: str | None = None
    """``malignant``, ``non-malignant`` or ``risk-reduction`` (knowledge/conditions.yaml), from
    the order's reason or the active Conditions."""
    indication_basis: str | None = None
    earlier_doses: float | None = None
    """Administrations, finished and active orders of the same drug on file."""
    course_stage: str | None = None
    """``start``; ``start-reduced`` (a first order below the full starting dose);
    ``start-adjusted`` (the same, reduced by a card's suggestion); ``continuing``."""
    full_starting_dose: str | None = None
    percent_of_full_dose: float | None = None
    full_dose_comparison: str | None = None
    """Against the drug's full starting dose (knowledge/drugs.yaml): ``below``, ``full``, or
    ``not-compared`` (no dose, another unit, or mg with no BSA or weight on file); none for a
    drug without one."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ActiveMedication(Fact):
    kind = "active_med"
    label = "Active medication"
    resource: str
    drug: str
    ingredient: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PastMedication(Fact):
    """A drug given or ordered before and finished: an administration, or a completed or
    stopped order (none of whose administrations is on file)."""

    kind = "past_med"
    label = "Past medication"
    resource: str
    drug: str
    ingredient: str
    date: str | None = None
    """The administration's date, or the order's authoredOn (else its start)."""
    months_ago: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Inhibitor(Fact):
    kind = "inhibitor"
    label = "Enzyme inhibitor"
    enzyme: str
    strength: str
    ingredient: str
    drug: str
    origin: str
    """``active`` (an active medication) or ``draft`` (an order being entered)."""
    resource: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Genotype(Fact):
    kind = "pgx_genotype"
    label = "Genotype"
    gene: str
    reported: str
    diplotype: str | None = None
    activity_score: float | None = None
    phenotype: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Phenotype(Fact):
    kind = "pgx_phenotype"
    label = "Phenotype"
    gene: str
    phenotype: str
    basis: str
    activity_score: float | None = None
    diplotype: str | None = None
    diplotype_phenotype: str | None = None
    concordance: str | None = None
    """``concordant`` or ``discordant`` when the lab and the diplotype both give a phenotype."""
    effective_activity_score: float | None = None
    """The activity score after the inhibitors on file and on order (phenoconversion)."""
    effective_phenotype: str | None = None
    inhibited_by: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PhenotypeGroup(Fact):
    kind = "pgx_group"
    label = "Combined phenotype"
    group: str
    phenotypes: str
    reduced: float
    """How many genes of the group have a reduced-function phenotype."""
    worst_phenotype: str | None = None
    worst_gene: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MissingResult(Fact):
    kind = "pgx_missing"
    label = "No result on file"
    gene: str
    test_ordered: str | None = None
    """The ServiceRequest (and its status) when the test is already ordered."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Cancer(Fact):
    kind = "cancer"
    label = "Cancer"
    site: str
    """The site named in ``knowledge/oncology.yaml`` (breast, lung)."""
    condition: str
    text: str | None = None
    diagnosed: str | None = None
    """The Condition's onset date, else its recorded date (YYYY-MM-DD)."""
    weeks_since_diagnosis: float | None = None
    """Weeks from ``diagnosed`` to the day of the call, to one decimal."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AdvancedCancer(Fact):
    """Advanced cancer, from the findings and Conditions ``knowledge/care.yaml`` lists.

    One fact per patient however many findings show it, so that a rule about it gives one card.
    """

    kind = "advanced_cancer"
    label = "Advanced cancer"
    basis: str
    """What shows it, in words: "stage group IV (2026-10-24)", a metastatic Condition's text."""
    diagnosed: str | None = None
    """The earliest date of that evidence, else the primary cancer's diagnosis date."""
    weeks_since_diagnosis: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CareOnFile(Fact):
    kind = "care"
    label = "Care on file"
    item: str
    """The care item's name in ``knowledge/care.yaml`` (fertility_preservation, goals_of_care)."""
    resource: str
    status: str
    text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CareMissing(Fact):
    kind = "care_missing"
    label = "Care not on file"
    item: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding(Fact):
    kind = "finding"
    label = "Finding"
    finding: str
    """The finding's name in ``knowledge/oncology.yaml`` (ER, HER2, nodes, ECOG, ...)."""
    value: str | None = None
    """The coded answer as the table reads it (positive, N0, MSI-H), or ``not interpreted``."""
    number: float | None = None
    """A quantity in the table's unit for the finding; an integer score."""
    unit: str | None = None
    band: str | None = None
    """The named range the number falls in (Recurrence Score 16-25)."""
    reported: str | None = None
    """What the result said, as sent."""
    date: str | None = None
    after_procedure: str | None = None
    """The latest procedure of ``knowledge/procedures.yaml`` the result was taken after, among
    those that list this finding in ``follow_up`` (a PSA after a radical prostatectomy)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FindingTrend(Fact):
    """A finding measured more than once: the baseline, the latest result and the change.

    For a finding the table measures per drug (LVEF and the HER2 drugs' labels), there is one
    trend per drug given: its baseline is the latest result on or before the drug's first dose
    on file, as the labels mean "baseline"; when none was taken before, the earliest on file,
    and ``baseline_basis`` says which. Otherwise the baseline is the earliest dated result.
    """

    kind = "finding_trend"
    label = "Trend"
    finding: str
    baseline: float
    baseline_date: str
    latest: float
    latest_date: str
    change: float
    """Latest minus baseline, in the finding's unit: negative when it fell."""
    count: float
    """How many dated results there are."""
    unit: str | None = None
    baseline_source: str | None = None
    """The result used as the baseline (``Observation/...``)."""
    since: str | None = None
    """The drug (ingredient) whose first dose on file sets the baseline."""
    first_dose: str | None = None
    """Its first dose on file: the administration or order, and its date in ``first_dose_date``."""
    first_dose_date: str | None = None
    baseline_basis: str | None = None
    """Which result is the baseline and why, in the table's words."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MissingFinding(Fact):
    kind = "finding_missing"
    label = "Not on file"
    finding: str
    test_ordered: str | None = None
    """The ServiceRequest (and its status) when the test is already ordered."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftTest(Fact):
    kind = "draft_test"
    label = "Test being ordered"
    order: str
    finding: str
    """The finding of knowledge/oncology.yaml whose ``ordered_when`` words the order names."""
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PerformedProcedure(Fact):
    kind = "procedure"
    label = "Procedure"
    procedure: str
    """The procedure's name in ``knowledge/procedures.yaml`` (radical_prostatectomy)."""
    resource: str
    text: str | None = None
    date: str | None = None
    """When it was performed: ``performedDateTime``, else the end or start of its period."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftProcedure(Fact):
    """A procedure of ``knowledge/procedures.yaml`` being ordered now (a draft ServiceRequest).

    The Procedure resource comes only once it is done; a rule that must speak before it (a
    fertility discussion before pelvic radiotherapy) reads the order.
    """

    kind = "draft_procedure"
    label = "Procedure being ordered"
    order: str
    procedure: str
    """The procedure's name in ``knowledge/procedures.yaml`` (pelvic_radiotherapy)."""
    text: str
    """The order's code text or first display, else the procedure's name."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AucDose(Fact):
    """An order of a drug dosed to a target AUC, checked with Calvert and Cockcroft-Gault.

    Every input and intermediate number is kept so that a card can show the computation step
    by step; ``missing`` names the inputs that were not on file, and then nothing is computed.
    """

    kind = "auc_dose"
    label = "AUC dose check"
    order: str
    drug: str
    ingredient: str
    missing: str | None = None
    target_auc: float | None = None
    ordered_dose: float | None = None
    age: float | None = None
    sex: str | None = None
    weight: float | None = None
    creatinine: float | None = None
    sex_factor: float | None = None
    age_from: float | None = None
    divisor: float | None = None
    """Cockcroft-Gault's constants, from the table, so the card can show the formula."""
    crcl: float | None = None
    """Cockcroft-Gault creatinine clearance, mL/min."""
    gfr_cap: float | None = None
    gfr: float | None = None
    """The clearance used in Calvert: the CrCl, capped."""
    add_to_gfr: float | None = None
    calculated_dose: float | None = None
    max_dose: float | None = None
    """Target AUC x (cap + 25): the most any patient gets at this AUC."""
    deviation: float | None = None
    """How far the ordered dose is from the calculated one, in percent (absolute)."""
    direction: str | None = None
    """``above`` or ``below`` the calculated dose."""
    excess_over_max: float | None = None
    """Ordered dose minus the maximum dose, mg (negative when under it)."""
    actual_weight: float | None = None
    measured_creatinine: float | None = None
    convention: str | None = None
    """The accepted way nearest the ordered dose (``actual``, ``NCCN``): ``weight`` and
    ``creatinine`` are the values it used, ``weight_basis``/``creatinine_basis`` say why."""
    weight_basis: str | None = None
    creatinine_basis: str | None = None
    other_dose: float | None = None
    """The dose by the other accepted way, when it differs; ``other_basis`` says how."""
    other_basis: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BiomarkerResult(Fact):
    """A biomarker tested for (``knowledge/biomarkers.yaml``), per cancer site of the patient.

    ``drugs`` are the therapies matched to it at that site for the disease extent on file,
    ``drugs_if_advanced`` those labelled only for advanced disease when the record does not show
    it (stage not advanced, or unknown), and ``on_therapy`` those of either active on file; all
    are left out unless the biomarker is present.
    """

    kind = "biomarker"
    label = "Biomarker"
    biomarker: str
    status: str
    """``present``, ``negative`` (tested, not found) or ``not interpreted``."""
    result: str
    """The result as read: the variant and its origin, or the finding as sent."""
    basis: str
    """``variant``, ``lab implication``, ``finding`` or ``unreadable``."""
    category: str | None = None
    """A named reading of the result the table gives (HER2-low)."""
    origin: str | None = None
    """``germline`` or ``somatic``, when the variant says."""
    site: str | None = None
    extent: str
    """``advanced``, ``not advanced`` or ``unknown``: how far the record shows the cancer spread."""
    extent_basis: str | None = None
    """What shows it: "stage group IV (2026-10-24)", "primary tumor T3; nodes N0"."""
    drugs: str | None = None
    drugs_if_advanced: str | None = None
    on_therapy: str | None = None
    source: str | None = None
    """The labels the matched therapies at this site rest on."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TargetedOrder(Fact):
    """A draft order of a drug given only with a biomarker, and that biomarker's status on file."""

    kind = "targeted_order"
    label = "Targeted drug ordered"
    order: str
    drug: str
    ingredient: str
    biomarker: str
    """The biomarker the status comes from (the first accepted one when none is on file)."""
    accepted: str
    """Every biomarker that allows the drug here: "BRAF V600E or BRAF V600K"."""
    status: str
    """``present``, ``negative``, ``not interpreted`` or ``not on file``."""
    result: str | None = None
    category: str | None = None
    site: str | None = None
    test_ordered: str | None = None
    """The ServiceRequest (and its status) when a test for the biomarker is already ordered."""
    negative: str | None = None
    """Of a requirement with separate biomarkers, the negative results of the others."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CumulativeDose(Fact):
    """A draft order of a drug counted toward a cumulative dose, and the total it would bring.

    Every input and step is kept so that a card can show the computation: each prior dose with
    its resource, the ratio, the BSA, the prior total, this order and the projected total.
    ``missing`` says which doses could not be counted; ``prior`` and ``projected`` are then left
    out (``counted`` keeps the sum of what could be counted), so that no rule reads a total that
    is too low as complete.
    """

    kind = "cumulative_dose"
    label = "Cumulative dose"
    order: str
    drug: str
    ingredient: str
    equivalent_of: str
    """The reference drug the total is expressed in (doxorubicin)."""
    unit: str
    ratio: float
    """The ordered drug's equivalence ratio."""
    prior_doses: str
    """Each dose counted, with its date, conversion, ratio and resource; "none"."""
    prior_count: float
    """How many past administrations and finished orders were found, counted or not."""
    counted: float
    """The equivalent doses that could be counted, this order included when it could."""
    ordered_dose: float | None = None
    """The ordered dose in ``unit`` (a dose in mg divided by the BSA), per administration."""
    order_doses: float | None = None
    order_equivalent: float | None = None
    prior: float | None = None
    projected: float | None = None
    """Prior total plus this order."""
    bsa: float | None = None
    bsa_basis: str | None = None
    cotherapy: str | None = None
    """Drugs on file or on order, and procedures done, that lower the lifetime limit."""
    age: float | None = None
    age_group: str | None = None
    """``child``, ``adult`` or ``unknown`` (no usable birth date)."""
    drug_counted: float | None = None
    """``counted`` in the ordered drug itself (the equivalent divided by its ratio)."""
    drug_total: float | None = None
    """``projected`` in the ordered drug itself: what its own labelled limit is checked with."""
    limit: float | None = None
    """The ordered drug's labelled lifetime limit for this patient, in mg/m2."""
    limit_basis: str | None = None
    limit_status: str | None = None
    """``above``, ``within``, ``incomplete`` (doses not counted, those counted within),
    ``not checked`` (a limit in mg/kg with no weight or BSA) or ``no labelled limit``."""
    missing: str | None = None
    """What is needed to count every dose, in a few words ("BSA (or height and weight)")."""
    not_counted: str | None = None
    """Each dose that could not be counted, with its resource and why."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Unreadable(Fact):
    kind = "unreadable"
    label = "Could not evaluate"
    resource: str
    resource_type: str
    reason: str
    role: str
    gene: str | None = None
    ingredient: str | None = None
    finding: str | None = None
    procedure: str | None = None
    biomarker: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChecksNotRun(Fact):
    """The checks of one answer that did not run because data they read could not be obtained.

    One per answer, whatever the number of rule files: the clinician reads one card. Only the
    checks that could have fired for this request are listed (``ruleset/notrun.py``).
    """

    kind = "checks_not_run"
    label = "Checks that could not run"
    queries: str
    """Per query not obtained, a list item: the query and what the FHIR server (or the client)
    answered, then as sub-items the checks that read its data, by their titles."""
    count: float
    keys: str
    orders: str | None = None
    """The draft drug orders that some of these checks are about ("Capecitabine oral tablet
    (MedicationRequest/x)"); none when every check is about the record only."""
    drugs: str | None = None
    """The same orders by their drugs only, for the summary."""


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
