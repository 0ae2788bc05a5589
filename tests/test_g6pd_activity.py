"""G6PD enzyme activity read as a percent of the lab's normal (knowledge/genomics.yaml "activity").

The limits are WHO class limits CPIC's phenotypes follow (below 60% of normal: deficient class
II-III range; 60% or more: class IV, normal), and for a woman (or a sex not stated) WHO 2022's
intermediate 60-80% reads Variable and only 80% or more Normal; the normal is the lab's own.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.range import Range

from cds_service.facts.pgx import pharmacogenomics
from cds_service.facts.types import Phenotype
from cds_service.knowledge.tables import load_knowledge
from cds_service.prefetch.record import PatientRecord
from tests.conftest import RULES
from tests.fixture_cases_pgx_pairs import g6pd_activity

KNOWLEDGE = load_knowledge(RULES / "knowledge")
(ACTIVITY,) = KNOWLEDGE.genomics.activities


def units(value: float, unit: str = "U/g Hb") -> Quantity:
    return Quantity(value=value, unit=unit)


ADULT = [Range(low=units(9.6), high=units(16.3))]  # midpoint 12.95 U/g Hb


@pytest.mark.parametrize(
    ("value", "phenotype", "band"),
    [
        (1.2, "Deficient", "below 10%"),  # 9%
        (1.3, "Deficient", "10-60%"),  # 10.04%
        (7.7, "Deficient", "10-60%"),  # 59.5%
        (7.8, "Normal", "60% or more"),  # 60.2%
    ],
)
def test_a_mans_activity_reads_by_percent_of_the_labs_normal(value, phenotype, band):
    read, text = ACTIVITY.read(units(value), ADULT, "male")
    assert read == phenotype
    assert band in text


@pytest.mark.parametrize(
    ("percent", "phenotype"),
    [
        *[(25, "Deficient"), (50, "Deficient"), (59, "Deficient"), (60, "Variable")],
        *[(70, "Variable"), (79, "Variable"), (80, "Normal"), (85, "Normal")],
    ],
)
def test_a_womans_activity_is_intermediate_until_80_percent(percent, phenotype):
    assert ACTIVITY.read(units(percent, "%"), [], "female")[0] == phenotype


@pytest.mark.parametrize("sex", [None, "unknown", "other"])
def test_an_unstated_sex_reads_with_the_stricter_limits_and_says_so(sex):
    read, text = ACTIVITY.read(units(70, "%"), [], sex)
    assert read == "Variable"
    assert "read as female" in text
    assert ACTIVITY.read(units(70, "%"), [], "male")[0] == "Normal"


def test_a_percent_is_read_as_sent():
    assert ACTIVITY.read(units(59, "%"), [], "male")[0] == "Deficient"
    assert ACTIVITY.read(units(60, "%"), [], "male")[0] == "Normal"


def test_a_range_in_another_unit_or_none_leaves_the_number_unread():
    other = [Range(low=units(150, "U/10*12 RBC"), high=units(215, "U/10*12 RBC"))]
    assert ACTIVITY.read(units(7.0), other)[0] is None
    assert ACTIVITY.read(units(7.0), [])[0] is None


def test_a_sites_normal_median_is_used_without_a_range():
    site = replace(ACTIVITY, normal_medians={"U/g Hb": 10.0})
    assert site.read(units(5.9), [], "male")[0] == "Deficient"
    assert site.read(units(6.0), [], "male")[0] == "Normal"


def test_a_bound_is_not_a_value():
    assert ACTIVITY.read(Quantity(value=2, comparator="<", unit="U/g Hb"), ADULT)[0] is None


@pytest.mark.parametrize(
    ("gender", "phenotype"),
    [("male", "Normal"), ("female", "Variable"), (None, "Variable"), ({"bad": 1}, "Variable")],
)
def test_the_patients_sex_is_taken_from_the_record(gender, phenotype):
    """9.1 U/g Hb of a 9.6-16.3 range is 70%: a malformed gender is read as not stated."""
    patient = {"resourceType": "Patient", "id": "pt-sex", "gender": gender}
    record = PatientRecord("pt-sex", patient, [g6pd_activity("sex", 9.1, (9.6, 16.3))])
    facts = pharmacogenomics(record, KNOWLEDGE, [])
    (g6pd,) = [f for f in facts if isinstance(f, Phenotype) and f.gene == "G6PD"]
    assert g6pd.phenotype == phenotype
