"""JSON Schemas of the knowledge tables in ``rules/knowledge/``."""

from __future__ import annotations

from .schemaparts import CODE, KNOWLEDGE_META, META_COMMON, TEXT, array, closed, document, mapping

POSITIVE = {"type": "number", "exclusiveMinimum": 0}


def drugs_schema() -> dict:
    drug = closed(
        {
            "rxnorm": array(TEXT),
            "names": array(TEXT),
            "form_of": TEXT,
            "route": TEXT,
            "contains": array(TEXT, minItems=1),
            "inhibits": mapping({"enum": ["strong", "moderate", "weak"]}),
            "full_starting_doses": array(
                closed(
                    {"dose": POSITIVE, "unit": TEXT, "per": {"enum": ["dose", "day"]}},
                    ["dose", "unit"],
                ),
                minItems=1,
            ),
            "strengths": closed(
                {"form": TEXT, "forms": TEXT, "unit": TEXT, "sizes": array(POSITIVE, minItems=1)},
                ["form", "forms", "unit", "sizes"],
            ),
        }
    )
    statuses = array(TEXT, minItems=1)
    history = closed(
        {"administration_statuses": statuses, "request_statuses": statuses},
        ["administration_statuses", "request_statuses"],
    )
    return document(
        "knowledge-drugs",
        "Drug ingredients (with RxNorm codes and names) and the classes rules test.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "route_words": mapping(array(TEXT, minItems=1)),
                "treatment_history": history,
                "drugs": mapping(drug),
                "classes": mapping(array(TEXT, minItems=1)),
            },
            ["meta", "treatment_history", "drugs", "classes"],
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
                "activity": array(
                    closed(
                        {
                            "gene": TEXT,
                            "codes": codes,
                            "percent_units": array(TEXT, minItems=1),
                            "normal_medians": mapping({"type": "number", "exclusiveMinimum": 0}),
                            "bands": mapping(
                                array(
                                    closed(
                                        {
                                            "below": {"type": "number", "exclusiveMinimum": 0},
                                            "phenotype": TEXT,
                                            "label": TEXT,
                                        },
                                        ["phenotype", "label"],
                                    ),
                                    minItems=2,
                                )
                            ),
                            "sex_unknown": TEXT,
                            "source": TEXT,
                        },
                        ["gene", "codes", "bands", "sex_unknown", "source"],
                    ),
                    minItems=1,
                ),
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
    single = closed({"function": TEXT, "phenotype": TEXT}, ["function", "phenotype"])
    notation = closed(
        {
            "prefixes": array(TEXT, minItems=1),
            "drop": array(TEXT, minItems=1),
            "chromosomes": TEXT,
            "fields": {"type": "integer", "minimum": 1},
            "other": closed({"pattern": TEXT, "function": TEXT}, ["pattern", "function"]),
            "stated": array(
                closed({"pattern": TEXT, "phenotype": TEXT}, ["pattern", "phenotype"]), minItems=1
            ),
        }
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
                "hemizygous_phenotypes": array(single, minItems=1),
                "inhibitor_factors": mapping({"type": "number", "minimum": 0, "maximum": 1}),
                "unphased_heterozygous": TEXT,
                "notation": notation,
            },
            ["meta", "reference", "alleles"],
            oneOf=[{"required": ["phenotypes"]}, {"required": ["function_phenotypes"]}],
        ),
    )


def notations_schema() -> dict:
    """The accepted ways labs write a result, each with what it must read as (a test each)."""
    score = {"type": ["number", "null"], "minimum": 0}  # null: the score is not known
    notation = closed(
        {
            "gene": TEXT,
            "text": TEXT,
            "diplotype": TEXT,
            "phenotype": TEXT,
            "activity_score": score,
            "source": TEXT,
        },
        ["gene", "text", "phenotype", "source"],
    )
    return document(
        "knowledge-notations",
        "Result notations the allele tables accept, with the diplotype, phenotype and activity"
        " score each reads as; tests/test_notations.py reads every one.",
        closed({"meta": KNOWLEDGE_META, "notations": array(notation, minItems=1)}),
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
                "not_diagnoses": closed(
                    {"verification": array(TEXT), "words": array(TEXT)}, ["verification"]
                ),
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
            ["meta", "not_diagnoses", "indications", "menopause"],
        ),
    )


def oncology_schema() -> dict:
    words = array(TEXT)
    band = closed(
        {"below": {"type": "number"}, "at_most": {"type": "number"}, "band": TEXT},
        ["band"],
        **{"not": {"required": ["below", "at_most"]}},  # one limit or none (the last band)
    )
    finding = closed(
        {
            "codes": array(CODE, minItems=1),
            "words": array(TEXT, minItems=1),
            "component": CODE,
            "answers": mapping(TEXT),
            "answer_texts": mapping(TEXT),
            "unit": TEXT,
            "from_units": mapping({"type": "number", "exclusiveMinimum": 0}),
            "bands": array(band, minItems=1),
            "ordered_when": words,
            "equivalent_codes": {"type": "boolean"},
            "trend": {"type": "boolean"},
            "interpretation": {"type": "boolean"},
            "per_gene": closed(
                {
                    "genes": array(TEXT, minItems=2),
                    "method_words": array(TEXT, minItems=1),
                    "lost": closed({"codes": array(TEXT), "texts": array(TEXT)}),
                    "kept": closed({"codes": array(TEXT), "texts": array(TEXT)}),
                    "any_lost": TEXT,
                    "all_kept": TEXT,
                },
                ["genes", "method_words", "lost", "kept", "any_lost", "all_kept"],
            ),
            "baseline_before_first_dose": closed(
                {
                    "drugs": array(TEXT, minItems=1),
                    "words": closed({"before": TEXT, "after": TEXT}, ["before", "after"]),
                },
                ["drugs", "words"],
            ),
        },
        anyOf=[{"required": ["codes"]}, {"required": ["words"]}],
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
            "accept": array({"enum": ["actual", "nccn"]}, minItems=1, uniqueItems=True),
            "nccn": closed(
                {
                    "height": TEXT,
                    "adjusted_weight_from_bmi": number,
                    "adjusted_weight_fraction": number,
                    "creatinine_floor": number,
                    "ibw_at_60_inches": mapping(number),
                    "ibw_per_inch": number,
                    "cm_per_inch": number,
                },
                [
                    "height",
                    "adjusted_weight_from_bmi",
                    "adjusted_weight_fraction",
                    "creatinine_floor",
                    "ibw_at_60_inches",
                    "ibw_per_inch",
                    "cm_per_inch",
                ],
            ),
        },
        [
            "drugs",
            "auc_units",
            "auc_patterns",
            "dose_unit",
            "calvert",
            "cockcroft_gault",
            "accept",
            "nccn",
        ],
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


def care_schema() -> dict:
    recognised = {"codes": array(CODE), "words": array(TEXT)}
    staged = mapping(array(TEXT, minItems=1))
    return document(
        "knowledge-care",
        "What makes a cancer advanced or shows it is not, and how supportive care on file is"
        " recognised.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "systems": mapping(TEXT),
                "advanced_cancer": closed(
                    {
                        "findings": mapping(array(TEXT, minItems=1)),
                        "conditions": closed(
                            {"profiles": array(TEXT), "unless": array(TEXT)} | recognised
                        ),
                        "combinations": array(
                            closed(
                                {
                                    "name": TEXT,
                                    "all_of": array(array(TEXT, minItems=1), minItems=1),
                                },
                                ["name", "all_of"],
                            )
                        ),
                    },
                    ["findings", "conditions"],
                ),
                "not_advanced": closed(
                    {"findings": staged, "together": staged},
                    anyOf=[{"required": ["findings"]}, {"required": ["together"]}],
                ),
                "on_file_statuses": mapping(array(TEXT, minItems=1)),
                "care": mapping(closed({"title": TEXT} | recognised, ["title"])),
            },
            ["meta", "systems", "advanced_cancer", "not_advanced", "on_file_statuses", "care"],
        ),
    )


def procedures_schema() -> dict:
    procedure = closed(
        {"codes": array(CODE), "words": array(TEXT), "follow_up": array(TEXT, minItems=1)},
        anyOf=[{"required": ["codes"]}, {"required": ["words"]}],
    )
    return document(
        "knowledge-procedures",
        "Procedures the rules test (codes or words), the statuses that mean done, and the"
        " findings read against each.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "systems": mapping(TEXT),
                "statuses": array(TEXT, minItems=1),
                "procedures": mapping(procedure),
            },
            ["meta", "systems", "statuses", "procedures"],
        ),
    )


def biomarkers_schema() -> dict:
    codes = array(CODE, minItems=1)
    words = array(TEXT, minItems=1)
    names = array(TEXT, minItems=1)
    variant = closed(
        {
            "genes": names,
            "changes": words,
            "types": closed({"codes": codes, "words": words}),
            "partners": {"type": "boolean"},
            "significance": names,
        },
        ["genes"],
    )
    reported = closed(
        {
            "pattern": TEXT,
            "status": {"enum": ["present", "negative", "not interpreted"]},
            "category": TEXT,
        },
        ["pattern", "status"],
    )
    finding = closed(
        {
            "name": TEXT,
            "present": names,
            "negative": names,
            "at_least": {"type": "number"},
            "reported": array(reported, minItems=1),
        },
        ["name"],
        anyOf=[{"required": ["present"]}, {"required": ["at_least"]}],
    )
    therapy = closed(
        {
            "sites": names,
            "except": names,
            "origin": {"enum": ["germline", "somatic"]},
            "extent": {"enum": ["advanced"]},
            "unless": names,
            "drugs": names,
            "source": TEXT,
        },
        ["drugs", "source"],
    )
    biomarker = closed(
        {
            "title": TEXT,
            "variant": variant,
            "finding": finding,
            "ordered_when": words,
            "therapies": array(therapy, minItems=1),
        },
        ["title", "therapies"],
        oneOf=[{"required": ["variant"]}, {"required": ["finding"]}],
    )
    requirement = closed(
        {
            "drugs": names,
            "sites": names,
            "except": names,
            "biomarkers": names,
            "origin": {"enum": ["germline", "somatic"]},
            "separate": {"type": "boolean"},
        },
        ["drugs", "biomarkers"],
    )
    components = ["gene", "change", "type", "origin", "significance", "location"]
    return document(
        "knowledge-biomarkers",
        "How genomic variants and biomarkers are read, where each is actionable with which"
        " drugs, and the drugs given only with a biomarker.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "systems": mapping(TEXT),
                "genes": mapping({"type": "string", "pattern": r"^HGNC:\d+$"}),
                "variants": closed(
                    {
                        "codes": codes,
                        "present": names,
                        "absent": names,
                        "components": closed(dict.fromkeys(components, codes), components),
                        "origins": mapping({"enum": ["germline", "somatic"]}),
                        "significances": mapping(TEXT),
                        "interpretations": codes,
                    },
                    [
                        "codes",
                        "present",
                        "absent",
                        "components",
                        "origins",
                        "significances",
                        "interpretations",
                    ],
                ),
                "implications": closed(
                    {"codes": codes, "medication": codes, "response": codes, "responsive": names},
                    ["codes", "medication", "response", "responsive"],
                ),
                "biomarkers": mapping(biomarker),
                "requirements": array(requirement, minItems=1),
            },
            ["meta", "systems", "genes", "variants", "implications", "biomarkers", "requirements"],
        ),
    )


def anthracyclines_schema() -> dict:
    positive = {"type": "number", "exclusiveMinimum": 0}
    statuses = array(TEXT, minItems=1, uniqueItems=True)
    limit = {
        **closed(
            {
                "mg_m2": positive,
                "mg_kg": positive,
                "age_below": positive,
                "age_at_least": {"type": "number", "minimum": 0},
                "cotherapy": {"type": "boolean"},
                "source": TEXT,
            },
            ["source"],
        ),
        "oneOf": [{"required": ["mg_m2"]}, {"required": ["mg_kg"]}],
    }
    return document(
        "knowledge-anthracyclines",
        "Drugs counted toward the cumulative doxorubicin-equivalent dose, their ratios, how dose"
        " units read, and what is counted.",
        closed(
            {
                "meta": KNOWLEDGE_META,
                "equivalent_of": TEXT,
                "unit": TEXT,
                "drugs": mapping(
                    closed(
                        {
                            "ratio": positive,
                            "source": TEXT,
                            "limits": array(limit, minItems=1),
                            "no_limit": TEXT,
                        },
                        ["ratio", "source"],
                        oneOf=[{"required": ["limits"]}, {"required": ["no_limit"]}],
                    )
                ),
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
                "cotherapy_procedures": array(TEXT, uniqueItems=True),
                "child_below_age": positive,
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
                "cotherapy_procedures",
                "child_below_age",
            ],
        ),
    )
