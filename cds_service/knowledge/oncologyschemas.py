"""JSON Schemas of the oncology and care tables: conditions, findings, care, procedures."""

from __future__ import annotations

from .schemaparts import CODE, KNOWLEDGE_META, TEXT, array, closed, document, mapping


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
    state = closed({"said": TEXT, "codes": array(TEXT), "texts": array(TEXT)}, ["said"])
    """A per-gene result's state (lost, kept): the word the finding lists it with, and how
    results say it."""
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
                    "method": TEXT,
                    "lost": state,
                    "kept": state,
                    "any_lost": TEXT,
                    "all_kept": TEXT,
                },
                ["genes", "method_words", "method", "lost", "kept", "any_lost", "all_kept"],
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
                    "ibw_base_inches": number,
                    "ibw_at_base": mapping(number),
                    "ibw_per_inch": number,
                    "cm_per_inch": number,
                },
                [
                    "height",
                    "adjusted_weight_from_bmi",
                    "adjusted_weight_fraction",
                    "creatinine_floor",
                    "ibw_base_inches",
                    "ibw_at_base",
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
