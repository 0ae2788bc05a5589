"""Facts about the disease: cancers, advanced cancer, findings and their trends, tests and
procedures done or ordered, biomarkers."""

from __future__ import annotations

from dataclasses import dataclass

from .fact import Fact


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
