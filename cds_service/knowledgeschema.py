"""JSON Schemas of the knowledge tables in ``rules/knowledge/``."""

from __future__ import annotations

from .schemabase import CODE, KNOWLEDGE_META, META_COMMON, TEXT, array, closed, document, mapping


def drugs_schema() -> dict:
    drug = closed(
        {
            "rxnorm": array(TEXT),
            "names": array(TEXT),
            "form_of": TEXT,
            "inhibits": mapping({"enum": ["strong", "moderate", "weak"]}),
        }
    )
    return document(
        "knowledge-drugs",
        "Drug ingredients (with RxNorm codes and names) and the classes rules test.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "drugs": mapping(drug),
                "classes": mapping(array(TEXT, minItems=1)),
            },
            ["meta", "drugs", "classes"],
        ),
    )


def genomics_schema() -> dict:
    code = closed({"system": TEXT, "code": TEXT, "gene": TEXT}, ["system", "code"])
    codes = array(code, minItems=1)
    return document(
        "knowledge-genomics",
        "How pharmacogenomic results are coded in FHIR, and the genes the rules know.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "systems": mapping(TEXT),
                "genotype": closed({"codes": codes}, ["codes"]),
                "phenotype": closed(
                    {"codes": codes, "value_components": codes}, ["codes", "value_components"]
                ),
                "gene_component": codes,
                "phenotype_answers": closed(
                    {
                        "codes": mapping(TEXT),
                        "texts": mapping(TEXT),
                    },
                    ["codes", "texts"],
                ),
                "genes": mapping(
                    closed(
                        {"hgnc": {"type": "string", "pattern": r"^HGNC:\d+$"}, "alleles": TEXT},
                        ["hgnc"],
                    )
                ),
                "test_order_statuses": array(TEXT, minItems=1),
                "groups": mapping(
                    closed(
                        {
                            "genes": array(TEXT, minItems=2),
                            "reduced": array(TEXT, minItems=1),
                            "source": TEXT,
                        },
                        ["genes", "reduced", "source"],
                    )
                ),
            },
            [
                "meta",
                "systems",
                "genotype",
                "phenotype",
                "gene_component",
                "phenotype_answers",
                "genes",
            ],
        ),
    )


def alleles_schema() -> dict:
    allele = closed(
        {
            "name": TEXT,
            "aliases": array(TEXT),
            "function": TEXT,
            "activity": {"type": "number", "minimum": 0},
        },
        ["name", "function"],
    )
    band = closed(
        {"min": {"type": "number"}, "max": {"type": "number"}, "phenotype": TEXT},
        ["min", "max", "phenotype"],
    )
    pair = closed(
        {"functions": array(TEXT, minItems=2, maxItems=2), "phenotype": TEXT},
        ["functions", "phenotype"],
    )
    return document(
        "knowledge-alleles",
        "One gene's allele functions (and activity values), and how a pair gives the phenotype:"
        " activity-score bands, or function pairs for genes without a score.",
        closed(
            {
                "meta": closed(META_COMMON | {"gene": TEXT}, ["gene", "title", "version"]),
                "reference": TEXT,
                "alleles": array(allele, minItems=1),
                "phenotypes": array(band, minItems=1),
                "function_phenotypes": array(pair, minItems=1),
                "inhibitor_factors": mapping({"type": "number", "minimum": 0, "maximum": 1}),
            },
            ["meta", "reference", "alleles"],
            oneOf=[{"required": ["phenotypes"]}, {"required": ["function_phenotypes"]}],
        ),
    )


def conditions_schema() -> dict:
    indication = closed({"profiles": array(TEXT), "codes": array(CODE), "words": array(TEXT)})
    status = closed(
        {"system": TEXT, "code": TEXT, "status": {"enum": ["premenopausal", "postmenopausal"]}},
        ["system", "code", "status"],
    )
    return document(
        "knowledge-conditions",
        "What Conditions say that rules need: malignant or not, menopausal status.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "indications": mapping(indication),
                "menopause": closed(
                    {
                        "codes": array(status),
                        "postmenopausal_from_age": {"type": "number", "minimum": 0},
                        "not_applicable_for": array(TEXT),
                    },
                    ["codes", "postmenopausal_from_age", "not_applicable_for"],
                ),
            },
            ["meta", "indications", "menopause"],
        ),
    )


def oncology_schema() -> dict:
    words = array(TEXT)
    finding = closed(
        {
            "codes": array(CODE, minItems=1),
            "words": words,
            "answers": mapping(TEXT),
            "unit": TEXT,
            "from_units": mapping({"type": "number", "exclusiveMinimum": 0}),
            "bands": array(
                closed({"below": {"type": "number"}, "band": TEXT}, ["band"]), minItems=1
            ),
            "ordered_when": words,
            "equivalent_codes": {"type": "boolean"},
            "trend": {"type": "boolean"},
        },
        ["codes"],
    )
    number = {"type": "number", "exclusiveMinimum": 0}
    auc = closed(
        {
            "drugs": array(TEXT, minItems=1),
            "auc_units": array(TEXT, minItems=1),
            "auc_patterns": array(TEXT, minItems=1),
            "dose_unit": TEXT,
            "calvert": closed({"add_to_gfr": number, "gfr_cap": number}, ["add_to_gfr", "gfr_cap"]),
            "cockcroft_gault": closed(
                {
                    "age_from": number,
                    "divisor": number,
                    "sex_factors": mapping(number),
                    "creatinine": TEXT,
                    "weight": TEXT,
                },
                ["age_from", "divisor", "sex_factors", "creatinine", "weight"],
            ),
        },
        ["drugs", "auc_units", "auc_patterns", "dose_unit", "calvert", "cockcroft_gault"],
    )
    return document(
        "knowledge-oncology",
        "Cancer sites, oncology findings (codes, answers, units, bands) and AUC dose formulas.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "systems": mapping(TEXT),
                "cancers": mapping(closed({"codes": array(CODE), "words": words})),
                "findings": mapping(finding),
                "auc_dosing": auc,
            },
            ["meta", "systems", "cancers", "findings", "auc_dosing"],
        ),
    )


def anthracyclines_schema() -> dict:
    positive = {"type": "number", "exclusiveMinimum": 0}
    statuses = array(TEXT, minItems=1, uniqueItems=True)
    return document(
        "knowledge-anthracyclines",
        "Drugs counted toward the cumulative doxorubicin-equivalent dose, their ratios, how dose"
        " units read, and what is counted.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "equivalent_of": TEXT,
                "unit": TEXT,
                "drugs": mapping(closed({"ratio": positive, "source": TEXT}, ["ratio", "source"])),
                "dose_units": closed(
                    {"per_area": mapping(positive), "mass": mapping(positive)},
                    ["per_area", "mass"],
                ),
                "bsa": closed(
                    {
                        "finding": TEXT,
                        "height": TEXT,
                        "weight": TEXT,
                        "mosteller_divisor": positive,
                    },
                    ["finding", "height", "weight", "mosteller_divisor"],
                ),
                "administration_statuses": statuses,
                "request_statuses": statuses,
                "cotherapy": array(TEXT, uniqueItems=True),
            },
            [
                "meta",
                "equivalent_of",
                "unit",
                "drugs",
                "dose_units",
                "bsa",
                "administration_statuses",
                "request_statuses",
                "cotherapy",
            ],
        ),
    )
