"""JSON Schemas of the drug and dose tables: drugs and their classes, anthracycline equivalence."""

from __future__ import annotations

from .schemaparts import KNOWLEDGE_META, TEXT, array, closed, document, mapping

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
