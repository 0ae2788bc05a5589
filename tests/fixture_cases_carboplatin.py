"""Fixture patients for carboplatin dosed the NCCN way (Appendix B): adjusted weight, SCr floor.

The review's H4 example: a woman of 55, 100 kg, 165 cm (BMI 36.7), serum creatinine 0.9 mg/dL,
AUC 5. Actual weight gives 682 mg; NCCN's adjusted weight (IBW 56.9 + 0.4 x 43.1 = 74.1 kg)
gives about 538 mg. Both ways are accepted (``knowledge/oncology.yaml`` auc_dosing.accept), so
an order at either is not called off; one below both still is. Height is an Observation shaped
like the mCODE ``Observation-bodyheight-jenny-m-2018-03-06`` example.
"""

from __future__ import annotations

from tests.fixture_cases import Case
from tests.fixture_cases_heart import measure

LUNG = [("254637007", "Non-small cell lung cancer")]
AUC5 = "Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days"


def heavy(name: str, dose: float, creatinine: float = 0.9) -> Case:
    return Case(
        name,
        "female",
        "1971-06-01",
        conditions=LUNG,
        findings={"creatinine": (creatinine, "mg/dL"), "weight": 100, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", dose, "mg", "q21d"),
        dosage_text=AUC5,
        resources=[measure(name, "height", 165, "2026-09-01")],
    )


CASES: tuple[Case, ...] = (
    heavy("carboplatin-nccn-adjusted-weight", 540),
    heavy("carboplatin-actual-weight-bmi-37", 680),
    heavy("carboplatin-below-both-ways", 450),
)
