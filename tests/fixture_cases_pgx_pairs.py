"""Fixture patients for the gene-drug pairs of supportive care and comorbidity (issue 15).

Each pair has a patient on each side of its boundary: a result that calls for a change and one
that does not. Genotypes are written as labs write them (a hemizygous G6PD allele alone, "B/A-"
for a heterozygous female, "HLA-B*58:01 heterozygous", "CYP2C19 *1/*17"); lab phenotypes
without a LOINC answer are sent as text. The cards each gets are in :data:`EXPECTED`.
"""

from __future__ import annotations

from tests.fixture_cases import Case

HEME = [(None, "Acute myeloid leukemia")]
LYMPHOMA = [(None, "Peripheral T-cell lymphoma, relapsed")]
BREAST = [(None, "Triple-negative breast cancer, metastatic")]

COLON = [(None, "Adenocarcinoma of colon, stage III")]
CML = [(None, "Chronic myeloid leukemia, chronic phase")]
RCC = [(None, "Renal cell carcinoma, metastatic")]


def g6pd_activity(case: str, value: float, reference: tuple[float, float] | None) -> dict:
    """A quantitative G6PD result (LOINC 32546-4, U/g Hb) with the lab's reference range."""
    unit = {"unit": "U/g Hb", "system": "http://unitsofmeasure.org", "code": "U/g{Hb}"}
    observation = {
        "resourceType": "Observation",
        "id": f"obs-g6pd-activity-{case}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "32546-4",
                    "display": "Glucose-6-Phosphate dehydrogenase [Enzymatic activity/mass] "
                    "in Red Blood Cells",
                }
            ]
        },
        "subject": {"reference": f"Patient/pt-{case}"},
        "effectiveDateTime": "2026-11-20T08:00:00Z",
        "valueQuantity": {"value": value, **unit},
    }
    if reference:
        low, high = reference
        observation["referenceRange"] = [
            {"low": {"value": low, **unit}, "high": {"value": high, **unit}}
        ]
    return observation


CASES: tuple[Case, ...] = (
    # Regimens and combination products read as their fluoropyrimidine and irinotecan
    Case(
        "dpyd-2a-13-folfox",
        "female",
        "1962-05-17",
        genotypes={"DPYD": "*2A/*13"},
        conditions=COLON,
        order=("FOLFOX", "mFOLFOX6", None, None, None),
    ),
    Case(
        "dpyd-normal-capox",
        "male",
        "1962-05-18",
        genotypes={"DPYD": "Reference/Reference"},
        conditions=COLON,
        order=("CAPOX", "CAPOX (XELOX)", None, None, None),
    ),
    Case(
        "dpyd-c1905-het-folfiri-ugt1a1-28-28",
        "male",
        "1962-05-19",
        genotypes={"DPYD": "c.1905+1G>A/Reference", "UGT1A1": "*28/*28"},
        conditions=COLON,
        order=("FOLFIRI", "FOLFIRI every 14 days", None, None, None),
    ),
    Case(
        "dpyd-2a-13-tegafur-uracil",
        "male",
        "1955-03-03",
        genotypes={"DPYD": "*2A/*13"},
        conditions=COLON,
        order=("tegafur", "tegafur/uracil (UFT) 100 mg capsule", None, None, None),
    ),
    # G6PD and hemolytic drugs
    Case(
        "g6pd-a-minus-male-rasburicase",
        "male",
        "1961-02-10",
        genotypes={"G6PD": "G6PD A- hemizygous"},
        conditions=LYMPHOMA,
        order=("rasburicase", "Elitek 0.2 mg/kg IV", None, None, None),
    ),
    Case(
        "g6pd-b-male-rasburicase",
        "male",
        "1963-07-01",
        genotypes={"G6PD": "B"},
        conditions=LYMPHOMA,
        order=("rasburicase", "Elitek 0.2 mg/kg IV", None, None, None),
    ),
    # G6PD enzyme activity (ARUP adult interval 9.6-16.3 U/g Hb): it outranks the genotype
    Case(  # 7.2 U/g Hb = 56% of normal: Deficient (WHO class III range), though B/A- is Variable
        "g6pd-het-activity-56pct-rasburicase",
        "female",
        "1970-03-22",
        genotypes={"G6PD": "B/A-"},
        conditions=HEME,
        order=("rasburicase", "rasburicase 0.2 mg/kg IV", None, None, None),
        resources=[g6pd_activity("g6pd-het-activity-56pct-rasburicase", 7.2, (9.6, 16.3))],
    ),
    Case(  # 8.5 U/g Hb = 66% of normal: intermediate for a woman (WHO 2022), not normal
        "g6pd-het-activity-66pct-rasburicase",
        "female",
        "1970-03-23",
        genotypes={"G6PD": "B/A-"},
        conditions=HEME,
        order=("rasburicase", "rasburicase 0.2 mg/kg IV", None, None, None),
        resources=[g6pd_activity("g6pd-het-activity-66pct-rasburicase", 8.5, (9.6, 16.3))],
    ),
    Case(  # no reference range: the number cannot be placed, said before the drug
        "g6pd-activity-no-range-dapsone",
        "male",
        "1958-12-01",
        conditions=HEME,
        order=("dapsone", "dapsone 100 mg tablet", None, None, None),
        resources=[g6pd_activity("g6pd-activity-no-range-dapsone", 2.0, None)],
    ),
    Case(
        "g6pd-het-female-rasburicase",
        "female",
        "1970-03-21",
        genotypes={"G6PD": "B/A-"},
        conditions=HEME,
        order=("rasburicase", "rasburicase 0.2 mg/kg IV", None, None, None),
    ),
    Case(
        "g6pd-lab-deficient-dapsone",
        "male",
        "1958-11-30",
        lab={"G6PD": "Deficient"},
        conditions=HEME,
        order=("dapsone", "dapsone 100 mg tablet", None, None, None),
    ),
    Case(
        "g6pd-untested-rasburicase",
        "male",
        "1966-05-05",
        conditions=LYMPHOMA,
        order=("rasburicase", "Elitek 0.2 mg/kg IV", None, None, None),
    ),
    # HLA-B*58:01 and allopurinol
    Case(
        "hla-b-5801-allopurinol",
        "female",
        "1972-08-14",
        genotypes={"HLA-B": "HLA-B*58:01 heterozygous"},
        conditions=HEME,
        order=("allopurinol", "allopurinol 300 mg tablet", None, None, None),
    ),
    Case(  # a full two-allele typing at three fields, as HLA labs report it
        "hla-b-typing-5801-4403-allopurinol",
        "male",
        "1969-02-11",
        genotypes={"HLA-B": "HLA-B*58:01:01/HLA-B*44:03:01"},
        conditions=HEME,
        order=("allopurinol", "allopurinol 300 mg tablet", None, None, None),
    ),
    Case(  # the same typing without *58:01: negative (CPIC: *X/*X, X not *58:01)
        "hla-b-typing-4403-0702-allopurinol",
        "male",
        "1969-02-12",
        genotypes={"HLA-B": "HLA-B*44:03:01/HLA-B*07:02:01"},
        conditions=HEME,
        order=("allopurinol", "allopurinol 300 mg tablet", None, None, None),
    ),
    Case(
        "hla-b-negative-allopurinol",
        "female",
        "1972-08-15",
        lab={"HLA-B": "HLA-B*58:01 negative"},
        conditions=HEME,
        order=("allopurinol", "allopurinol 300 mg tablet", None, None, None),
    ),
    # CYP2D6 and antiemetics, opioids
    Case(
        "cyp2d6-um-ondansetron",
        "female",
        "1975-01-09",
        genotypes={"CYP2D6": "*1/*1x2"},
        conditions=BREAST,
        order=("ondansetron", "ondansetron 8 mg tablet", None, None, None),
    ),
    Case(
        "cyp2d6-nm-ondansetron",
        "female",
        "1975-01-10",
        genotypes={"CYP2D6": "*1/*2"},
        conditions=BREAST,
        order=("ondansetron", "ondansetron 8 mg tablet", None, None, None),
    ),
    Case(
        "cyp2d6-pm-codeine",
        "male",
        "1950-12-12",
        genotypes={"CYP2D6": "*4/*4"},
        conditions=BREAST,
        order=("codeine", "codeine 30 mg tablet", None, None, None),
    ),
    Case(
        "cyp2d6-um-tramadol",
        "male",
        "1950-12-13",
        genotypes={"CYP2D6": "*1/*2x2"},
        conditions=BREAST,
        order=("tramadol", "tramadol 50 mg tablet", None, None, None),
    ),
    Case(
        "cyp2d6-im-tramadol",
        "male",
        "1950-12-14",
        genotypes={"CYP2D6": "*1/*4"},
        conditions=BREAST,
        order=("tramadol", "tramadol 50 mg tablet", None, None, None),
    ),
    # CYP2C19 and voriconazole, clopidogrel
    Case(
        "cyp2c19-rm-voriconazole",
        "male",
        "1980-04-04",
        genotypes={"CYP2C19": "CYP2C19 *1/*17"},
        conditions=HEME,
        order=("voriconazole", "voriconazole 200 mg tablet", None, None, None),
    ),
    Case(
        "cyp2c19-im-voriconazole",
        "male",
        "1980-04-05",
        genotypes={"CYP2C19": "*1/*2"},
        conditions=HEME,
        order=("voriconazole", "voriconazole 200 mg tablet", None, None, None),
    ),
    Case(
        "cyp2c19-im-clopidogrel",
        "male",
        "1955-09-09",
        genotypes={"CYP2C19": "*1/*2"},
        conditions=BREAST,
        order=("clopidogrel", "clopidogrel 75 mg tablet", None, None, None),
    ),
    Case(
        "cyp2c19-nm-clopidogrel",
        "male",
        "1955-09-10",
        genotypes={"CYP2C19": "*1/*1"},
        conditions=BREAST,
        order=("clopidogrel", "clopidogrel 75 mg tablet", None, None, None),
    ),
    # CYP3A5 and tacrolimus
    Case(
        "cyp3a5-1-3-tacrolimus",
        "female",
        "1984-06-18",
        genotypes={"CYP3A5": "*1/*3"},
        conditions=HEME,
        order=("tacrolimus", "tacrolimus 1 mg capsule", None, None, None),
    ),
    Case(
        "cyp3a5-3-3-tacrolimus",
        "female",
        "1984-06-19",
        genotypes={"CYP3A5": "*3/*3"},
        conditions=HEME,
        order=("tacrolimus", "tacrolimus 1 mg capsule", None, None, None),
    ),
    # UGT1A1 and belinostat, sacituzumab govitecan
    Case(
        "ugt1a1-28-28-belinostat-1000",
        "male",
        "1957-10-02",
        genotypes={"UGT1A1": "*28/*28"},
        conditions=LYMPHOMA,
        order=("belinostat", "Beleodaq IV", 1000, "mg/m2", "daily"),
    ),
    Case(
        "ugt1a1-28-28-belinostat-750",
        "male",
        "1957-10-03",
        genotypes={"UGT1A1": "*28/*28"},
        conditions=LYMPHOMA,
        order=("belinostat", "Beleodaq IV", 750, "mg/m2", "daily"),
    ),
    Case(
        "ugt1a1-28-28-sacituzumab",
        "female",
        "1969-02-27",
        genotypes={"UGT1A1": "UGT1A1 *28/*28"},
        conditions=BREAST,
        order=("sacituzumab govitecan", "Trodelvy 10 mg/kg IV", None, None, None),
    ),
    # UGT1A1 and nilotinib, pazopanib (hyperbilirubinemia; information, no dose change)
    Case(
        "ugt1a1-28-28-nilotinib",
        "male",
        "1971-05-14",
        genotypes={"UGT1A1": "*28/*28"},
        conditions=CML,
        order=("nilotinib", "Tasigna 300 mg capsule", 300, "mg", "daily"),
    ),
    Case(
        "ugt1a1-1-28-nilotinib",
        "male",
        "1971-05-15",
        genotypes={"UGT1A1": "*1/*28"},
        conditions=CML,
        order=("nilotinib", "Tasigna 300 mg capsule", 300, "mg", "daily"),
    ),
    Case(
        "ugt1a1-6-28-pazopanib",
        "female",
        "1963-08-21",
        genotypes={"UGT1A1": "UGT1A1*6/*28"},
        conditions=RCC,
        order=("pazopanib", "Votrient 800 mg", 800, "mg", "daily"),
    ),
    Case(
        "ugt1a1-1-1-pazopanib",
        "female",
        "1963-08-22",
        genotypes={"UGT1A1": "*1/*1"},
        conditions=RCC,
        order=("pazopanib", "Votrient 800 mg", 800, "mg", "daily"),
    ),
)

Card = tuple[str, str, str]
EXPECTED: dict[str, list[Card]] = {
    "dpyd-2a-13-folfox.order-sign": [("dpyd-poor", "critical", "avoid fluorouracil")],
    "dpyd-normal-capox.order-sign": [],
    "dpyd-c1905-het-folfiri-ugt1a1-28-28.order-sign": [
        ("dpyd-intermediate-as1", "warning", "start fluorouracil at 50% of the ordered dose"),
        ("ugt1a1-poor-irinotecan", "warning", "UGT1A1 poor metabolizer: start irinotecan at"),
    ],
    "dpyd-2a-13-tegafur-uracil.order-sign": [("dpyd-poor", "critical", "avoid tegafur")],
    "g6pd-a-minus-male-rasburicase.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "G6PD Deficient: do not give rasburicase")
    ],
    "g6pd-b-male-rasburicase.order-sign": [],
    "g6pd-het-female-rasburicase.order-sign": [
        ("g6pd-variable-hemolytic-drug", "warning", "G6PD variable (B/A-): measure G6PD")
    ],
    "g6pd-lab-deficient-dapsone.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "do not give dapsone")
    ],
    "g6pd-het-activity-56pct-rasburicase.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "do not give rasburicase")
    ],
    "g6pd-het-activity-66pct-rasburicase.order-sign": [
        ("g6pd-intermediate-activity-hemolytic-drug", "warning", "hemolysis risk with rasburicase")
    ],
    "g6pd-activity-no-range-dapsone.order-sign": [
        ("g6pd-result-unreadable", "warning", "could not be read")
    ],
    "g6pd-untested-rasburicase.order-sign": [
        ("g6pd-test-first-rasburicase", "info", "No G6PD result on file")
    ],
    "hla-b-5801-allopurinol.order-sign": [
        ("hla-b-5801-allopurinol", "critical", "HLA-B*58:01 positive: do not give allopurinol")
    ],
    "hla-b-negative-allopurinol.order-sign": [],
    "hla-b-typing-5801-4403-allopurinol.order-sign": [
        ("hla-b-5801-allopurinol", "critical", "HLA-B*58:01 positive: do not give allopurinol")
    ],
    "hla-b-typing-4403-0702-allopurinol.order-sign": [],
    "cyp2d6-um-ondansetron.order-sign": [
        ("cyp2d6-ultrarapid-5ht3", "warning", "choose granisetron")
    ],
    "cyp2d6-nm-ondansetron.order-sign": [],
    "cyp2d6-pm-codeine.order-sign": [("cyp2d6-poor-opioid", "warning", "avoid codeine")],
    "cyp2d6-um-tramadol.order-sign": [("cyp2d6-ultrarapid-opioid", "critical", "avoid tramadol")],
    "cyp2d6-im-tramadol.order-sign": [],
    "cyp2c19-rm-voriconazole.order-sign": [
        ("cyp2c19-rapid-voriconazole-adult", "warning", "choose isavuconazole or posaconazole")
    ],
    "cyp2c19-im-voriconazole.order-sign": [],
    "cyp2c19-im-clopidogrel.order-sign": [
        ("cyp2c19-reduced-clopidogrel", "warning", "prasugrel or ticagrelor")
    ],
    "cyp2c19-nm-clopidogrel.order-sign": [],
    "cyp3a5-1-3-tacrolimus.order-sign": [
        ("cyp3a5-expresser-tacrolimus", "warning", "1.5-2 times the usual dose")
    ],
    "cyp3a5-3-3-tacrolimus.order-sign": [],
    "ugt1a1-28-28-belinostat-1000.order-sign": [
        ("ugt1a1-28-homozygous-belinostat", "warning", "start belinostat at 750 mg/m2")
    ],
    "ugt1a1-28-28-belinostat-750.order-sign": [],
    "ugt1a1-28-28-sacituzumab.order-sign": [
        ("ugt1a1-poor-sacituzumab", "info", "watch closely for neutropenia")
    ],
    "ugt1a1-28-28-nilotinib.order-sign": [
        ("ugt1a1-poor-nilotinib", "info", "more hyperbilirubinemia on nilotinib (no dose change)")
    ],
    "ugt1a1-1-28-nilotinib.order-sign": [],
    "ugt1a1-6-28-pazopanib.order-sign": [
        ("ugt1a1-poor-pazopanib", "info", "indirect hyperbilirubinemia on pazopanib")
    ],
    "ugt1a1-1-1-pazopanib.order-sign": [],
}
