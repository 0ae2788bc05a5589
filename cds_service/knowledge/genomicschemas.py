"""JSON Schemas of the genomics tables: result encodings, allele tables, notations, biomarkers."""

from __future__ import annotations

from .schemaparts import CODE, KNOWLEDGE_META, META_COMMON, TEXT, array, closed, document, mapping


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
