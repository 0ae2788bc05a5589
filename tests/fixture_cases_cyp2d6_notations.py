"""CYP2D6 tandems and copy numbers read end to end, on both sides of a phenotype boundary.

``*36+*10`` is the tandem common in East Asian patients (PharmVar; CPIC: *36 no function, *10
0.25): two of them make activity score 0.5, an intermediate metabolizer, while ``*1/*36+*10``
is 1.25, a normal one. A duplication of unmeasured copy number (``xN``) gives a phenotype only
where every copy number gives the same one: ``*1/*2xN`` is ultrarapid, ``*4/*2xN`` (normal with
two copies, ultrarapid with three) is not guessed. Values: rules/knowledge/alleles/CYP2D6.yaml.
"""

from __future__ import annotations

from tests.fixture_cases import Case

BREAST = [("254837009", "Breast cancer")]
POSTMENOPAUSAL = [*BREAST, ("76498008", "Postmenopausal state")]
TAMOXIFEN = ("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily")

CASES: tuple[Case, ...] = (
    Case(
        "cyp2d6-36-10-tandem-tamoxifen",
        "female",
        "1966-04-12",
        genotypes={"CYP2D6": "CYP2D6 *36+*10/*36+*10"},
        conditions=POSTMENOPAUSAL,
        order=TAMOXIFEN,
    ),
    Case(
        "cyp2d6-1-36-10-tandem-tamoxifen",
        "female",
        "1966-04-13",
        genotypes={"CYP2D6": "CYP2D6 *1/*36+*10"},
        conditions=POSTMENOPAUSAL,
        order=TAMOXIFEN,
    ),
    Case(
        "cyp2d6-1-2xn-ondansetron",
        "female",
        "1975-02-03",
        genotypes={"CYP2D6": "CYP2D6 *1/*2xN"},
        conditions=BREAST,
        order=("ondansetron", "ondansetron 8 mg tablet", None, None, None),
    ),
    Case(
        "cyp2d6-4-2xn-tamoxifen",
        "female",
        "1966-04-14",
        genotypes={"CYP2D6": "CYP2D6 *4/*2xN"},
        conditions=POSTMENOPAUSAL,
        order=TAMOXIFEN,
    ),
)

Card = tuple[str, str, str]
EXPECTED: dict[str, list[Card]] = {
    "cyp2d6-36-10-tandem-tamoxifen.order-sign": [
        (
            "cyp2d6-intermediate-tamoxifen-postmenopausal",
            "warning",
            "CYP2D6 intermediate (AS 0.5), postmenopausal",
        )
    ],
    "cyp2d6-1-36-10-tandem-tamoxifen.order-sign": [],
    "cyp2d6-1-2xn-ondansetron.order-sign": [
        ("cyp2d6-ultrarapid-5ht3", "warning", "choose granisetron")
    ],
    "cyp2d6-4-2xn-tamoxifen.order-sign": [
        ("cyp2d6-indeterminate", "info", "CYP2D6 result *4/*2xN not interpretable")
    ],
}
