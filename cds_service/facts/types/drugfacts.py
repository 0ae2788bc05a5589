"""Facts about drugs: orders being entered, medications on file, inhibitors, and the dose
checks of an order (AUC, cumulative dose, the biomarker a targeted drug needs)."""

from __future__ import annotations

from dataclasses import dataclass

from .fact import Fact


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
