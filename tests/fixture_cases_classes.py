"""Fixture patients for the drug and procedure classes of issue 13 (the review's M6 and M7).

ECOG 3 and a cytotoxic order: a haematological malignancy on either side of the solid-tumour
boundary of Choosing Wisely item 1. Pelvic radiotherapy and total body irradiation ordered as
draft ServiceRequests: gonadotoxic treatment for the fertility-preservation card, on either side
of its age settings (women 18 to 45, men 18 to 55) for :data:`tests.fixture_cases.TODAY`.
"""

from __future__ import annotations

from tests.fixture_cases import Case

NSCLC = ("254637007", "Non-small cell lung cancer")
CYTARABINE = ("cytarabine", "Cytarabine 100 mg/mL injection", 100, "mg/m2", "daily")
VINCRISTINE = ("vincristine", "Vincristine 1 mg/mL injection", 1.4, "mg/m2", "q21d")
PELVIC_RT = "Pelvic radiotherapy, external beam, 45 Gy in 25 fractions"
TBI = "Total body irradiation 12 Gy in 6 fractions (conditioning)"
CERVIX = (None, "Squamous cell carcinoma of cervix")  # text only: no code verified
AML_TEXT = (None, "Acute myeloid leukemia")


def radiotherapy(
    name: str, gender: str, birth: str, text: str, diagnosis: tuple[str | None, str]
) -> Case:
    """A patient whose radiotherapy is being ordered, at order-sign, with no consult on file."""
    return Case(name, gender, birth, conditions=[diagnosis], service_request=text)


CASES: tuple[Case, ...] = (
    Case(
        "cytarabine-aml-ecog-3",
        "male",
        "1961-03-04",
        conditions=[AML_TEXT],
        findings={"ECOG": 3},
        order=CYTARABINE,
    ),
    Case(
        "vincristine-lung-ecog-3",
        "male",
        "1961-03-05",
        conditions=[NSCLC],
        findings={"ECOG": 3},
        order=VINCRISTINE,
    ),
    radiotherapy("fertility-pelvic-rt-age-30", "female", "1996-05-13", PELVIC_RT, CERVIX),
    radiotherapy("fertility-pelvic-rt-age-46", "female", "1980-03-16", PELVIC_RT, CERVIX),
    radiotherapy("fertility-tbi-male-age-55", "male", "1971-06-01", TBI, AML_TEXT),
    radiotherapy("fertility-tbi-male-age-56", "male", "1970-06-01", TBI, AML_TEXT),
)

# fixture request -> the cards it must produce (tests/test_fixtures.py)
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "cytarabine-aml-ecog-3.order-sign": [],
    "vincristine-lung-ecog-3.order-sign": [
        ("cytotoxic-at-ecog-3-4", "warning", "ECOG 3 on file: reconsider vincristine")
    ],
    "fertility-pelvic-rt-age-30.order-sign": [
        ("fertility-preservation-radiotherapy", "info", "Gonadotoxic radiotherapy ordered")
    ],
    "fertility-pelvic-rt-age-46.order-sign": [],
    "fertility-tbi-male-age-55.order-sign": [
        ("fertility-preservation-radiotherapy-male", "info", "sperm banking")
    ],
    "fertility-tbi-male-age-56.order-sign": [],
}
