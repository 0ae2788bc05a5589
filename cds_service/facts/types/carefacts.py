"""Facts about the patient and the care on file, and what the record could not tell: resources
that could not be read, checks that could not run."""

from __future__ import annotations

from dataclasses import dataclass

from .fact import Fact


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
    """The checks of one answer that did not run because data they read could not be obtained,
    or because the service failed on the record (``fault``).

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
    fault: str | None = None
    """When the service itself failed on the record, the reference of its log line: then no
    check of the record is known to have run, and they are counted."""
