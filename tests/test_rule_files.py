"""Authoring mistakes in rule files: each is refused with its file, line and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds_service.offline.examples import run_examples
from cds_service.protocol.yamlfile import RuleFileError
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import RuleSetInvalid, load_rule_set
from tests.conftest import DPYD, ROOT, copy_rules, replace_in

DRUGS = Path("knowledge") / "drugs.yaml"


def test_bundled_examples_pass(rule_set: RuleSet):
    results = run_examples(rule_set)
    assert len(results) == sum(len(rule_file.examples) for rule_file in rule_set.files) > 40
    assert [f"{r.file.path.name}: {r.name}: {r.problems}" for r in results if not r.passed] == []


def test_a_wrong_expectation_fails(tmp_path: Path):
    rules = edit(
        tmp_path,
        "cards: []\n\n  - name: No DPYD result",
        "cards: [{rule: dpyd-poor}]\n\n  - name: No DPYD result",
    )
    loaded = load_rule_set(rules)
    results = run_examples(loaded)
    loaded.close()
    assert [r.name for r in results if not r.passed] == ["Normal metabolizer gets no card"]


def test_prefetch_asks_for_every_pgx_code(rule_set: RuleSet):
    genomics = rule_set.knowledge.genomics
    assert genomics.genotype_codes
    assert genomics.phenotype_codes
    for service in rule_set.services.values():
        for system, code in genomics.genotype_codes | genomics.phenotype_codes:
            assert f"{system}|{code}" in service.prefetch["pgx"]


def edit(tmp_path: Path, old: str, new: str, file: Path = DPYD) -> Path:
    rules = copy_rules(tmp_path)
    replace_in(rules / file, old, new)
    return rules


def problems(rules: Path) -> list[RuleFileError]:
    with pytest.raises(RuleSetInvalid) as caught:
        load_rule_set(rules)
    return caught.value.problems


def line_of(rules: Path, text: str, file: Path = DPYD) -> int:
    lines = (rules / file).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


# (what is written, what it becomes, the line to blame, the rule, words the message must hold)
MISTAKES = [
    pytest.param(
        "        activity_score: 1.5\n",
        "        activity_scor: 1.5\n",
        "activity_scor: 1.5",
        "dpyd-intermediate-as1.5",
        "unknown key 'activity_scor'",
        id="unknown-attribute",
    ),
    pytest.param(
        "activity_score: 1.5\n",
        'activity_score: "1.5"\n',
        'activity_score: "1.5"',
        "dpyd-intermediate-as1.5",
        "expected a number",
        id="number-as-text",
    ),
    pytest.param(
        "fact: pgx_missing",
        "fact: pgx_absent",
        "fact: pgx_absent",
        "dpyd-test-first",
        "'pgx_absent' is not one of",
        id="unknown-fact",
    ),
    pytest.param(
        "gene: DPYD\n        phenotype: Poor",
        "gene: no\n        phenotype: Poor",
        "gene: no",
        "dpyd-poor",
        "found 'no' (read as False); write it in quotes: 'no'",
        id="yaml-no-is-false",
    ),
    pytest.param(
        "gene: DPYD\n        phenotype: Poor",
        "gene: 0123\n        phenotype: Poor",
        "gene: 0123",
        None,
        "0123 would be read as the number 83",
        id="yaml-octal",
    ),
    pytest.param(
        "gene: DPYD\n        phenotype: Poor",
        "gene: DPYDX\n        phenotype: Poor",
        "gene: DPYDX",
        "dpyd-poor",
        "gene 'DPYDX' is not among the genes in knowledge/genomics.yaml"
        " (CYP2C19, CYP2D6, CYP3A5, DPYD, G6PD",
        id="unknown-gene",
    ),
    pytest.param(
        "phenotype: Poor metabolizer\n        activity_score: {not: 0.5}\n",
        "phenotype: Poor metaboliser\n        activity_score: {not: 0.5}\n",
        "phenotype: Poor metaboliser",
        "dpyd-poor",
        "phenotype 'Poor metaboliser' is not among the phenotypes",
        id="unknown-phenotype",
    ),
    pytest.param(
        "{class: fluoropyrimidine}, course_stage: start}\n      dpyd:\n"
        "        fact: pgx_phenotype\n        gene: DPYD\n"
        "        phenotype: Intermediate metabolizer\n        activity_score: 1.5",
        "{class: taxane}, course_stage: start}\n      dpyd:\n"
        "        fact: pgx_phenotype\n        gene: DPYD\n"
        "        phenotype: Intermediate metabolizer\n        activity_score: 1.5",
        "{class: taxane}",
        "dpyd-intermediate-as1.5",
        "class 'taxane' is not a drug class",
        id="unknown-drug-class",
    ),
    pytest.param(
        "(AS 1.5): start {order.ingredient} at",
        "(AS 1.5): start {order.ingredent} at",
        "(AS 1.5): start {order.ingredent}",
        "dpyd-intermediate-as1.5",
        "{order.ingredent}: a draft_med fact has no 'ingredent'",
        id="unknown-placeholder",
    ),
    pytest.param(
        "(AS 1.5): start {order.ingredient} at",
        "(AS 1.5): start {order.drug}, {order.frequency} and {order.dose_unit} at",
        "{order.drug}, {order.frequency}",
        "dpyd-intermediate-as1.5",
        "summary can reach 297 characters once filled",
        id="summary-too-long",
    ),
    pytest.param(
        "exists: false}}\n    card:\n      indicator: warning\n"
        '      strength: "FDA boxed warning (2026): test before starting"\n'
        '      summary: "No DPYD result',
        "exists: false}, absent: true}\n    card:\n      indicator: warning\n"
        '      strength: "FDA boxed warning (2026): test before starting"\n'
        '      summary: "No {missing.gene} result',
        'summary: "No {missing.gene} result',
        "dpyd-test-first",
        "{missing.gene}: condition missing is absent, no fact fills it",
        id="placeholder-of-absent-condition",
    ),
    pytest.param(
        "action: order-test",
        "action: order-lab",
        "action: order-lab",
        "dpyd-test-first",
        "'order-lab' is not one of: adjust-dose, remove-order, order-test",
        id="unknown-suggestion",
    ),
    pytest.param(
        '      indicator: warning\n      strength: "CPIC: Strong"\n      summary: "DPYD inter',
        '      indicator: warning\n      indicator: critical\n      summary: "DPYD inter',
        "indicator: critical",
        None,
        "key 'indicator' is written twice",
        id="duplicate-key",
    ),
    pytest.param(
        "rules:\n",
        "rules:\n  - id: [unclosed\n",
        "  - id: [unclosed",
        None,
        "not valid YAML",
        id="broken-yaml",
    ),
    pytest.param(
        "      - {rule: dpyd-poor-score-unknown}",
        "      - {rule: dpyd-poorly}",
        "  - name: Lab-reported poor metabolizer without a diplotype",
        None,
        "no rule 'dpyd-poorly' in this file",
        id="example-names-no-rule",
    ),
]


def _blamed_line(rules: Path, text: str) -> int:
    first = text.splitlines()[0] if "\n" in text else text
    return line_of(rules, first)


@pytest.mark.parametrize(("old", "new", "blamed", "rule", "words"), MISTAKES)
def test_mistake_names_file_line_and_rule(
    tmp_path: Path, old: str, new: str, blamed: str, rule: str | None, words: str
):
    rules = edit(tmp_path, old, new)
    found = problems(rules)
    assert len(found) == 1, found
    (problem,) = found
    assert problem.path == (rules / DPYD).resolve()
    assert problem.line == _blamed_line(rules, blamed)
    assert problem.rule == rule
    assert words in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path):
    rules = edit(tmp_path, "activity_score: 1.5\n", 'activity_score: "1.5"\n')
    text = (rules / DPYD).read_text(encoding="utf-8").replace("fact: pgx_missing", "fact: nope", 1)
    (rules / DPYD).write_text(text, encoding="utf-8")
    drugs = (rules / DRUGS).read_text(encoding="utf-8").replace('"4492"', "4492")
    (rules / DRUGS).write_text(drugs, encoding="utf-8")
    found = problems(rules)
    assert [(p.path.name, p.rule) for p in found] == [
        ("drugs.yaml", None),
        ("dpyd-fluoropyrimidines.yaml", "dpyd-intermediate-as1.5"),
        ("dpyd-fluoropyrimidines.yaml", "dpyd-test-first"),
    ]
    assert "expected text, found '4492' (read as 4492); write it in quotes" in found[0].message


def test_duplicate_rule_id_names_both_places(tmp_path: Path):
    rules = edit(
        tmp_path,
        "rules:\n",
        "rules:\n  - id: dpyd-poor\n    when: {x: {fact: pgx_missing, gene: DPYD}}\n"
        "    card: {indicator: info, summary: No DPYD result}\n",
        Path("data-quality.yaml"),
    )
    (problem,) = problems(rules)
    assert (problem.path.name, problem.rule) == ("dpyd-fluoropyrimidines.yaml", "dpyd-poor")
    lines = (rules / DPYD).read_text(encoding="utf-8").splitlines()
    assert lines[problem.line - 1] == "  - id: dpyd-poor"
    assert f"rule id also used at {(rules / 'data-quality.yaml').resolve()}:" in problem.message


def test_a_rule_of_absences_only_is_refused(tmp_path: Path):
    written = "      broken: {fact: unreadable, role: draft_order}\n"
    rules = edit(
        tmp_path,
        written,
        "      broken: {fact: unreadable, role: draft_order, absent: true}\n",
        Path("data-quality.yaml"),
    )
    found = {(p.path.name, p.rule, p.message) for p in problems(rules)}
    message = "every condition is absent: at least one must name a fact"
    assert ("data-quality.yaml", "draft-order-unreadable", message) in found


def test_engine_limit_is_refused_with_the_rule_line(tmp_path: Path):
    many = ", ".join(f'"v{n}"' for n in range(501))
    rules = edit(tmp_path, "diplotype: {not: c.2846A>T/c.2846A>T}", f"diplotype: [{many}]")
    (problem,) = problems(rules)
    assert problem.rule == "dpyd-intermediate-as1"
    assert problem.line == line_of(rules, "  - id: dpyd-intermediate-as1")
    assert "compared with more than 500 distinct values" in problem.message


def test_a_missing_file_is_named(tmp_path: Path):
    rules = copy_rules(tmp_path)
    (rules / DRUGS).unlink()
    (problem,) = problems(rules)
    assert problem.path.name == "drugs.yaml"
    assert "missing" in problem.message


@pytest.mark.parametrize(
    ("file", "old", "new", "blamed", "words"),
    [
        pytest.param(
            DRUGS,
            "  egfr_tki: [osimertinib, erlotinib, gefitinib]",
            "  egfr_tki: [osimertinib, erlotinib, gefitinibb]",
            "  egfr_tki: [osimertinib, erlotinib, gefitinibb]",
            "class egfr_tki: unknown drug gefitinibb",
            id="class-member",
        ),
        pytest.param(
            Path("knowledge") / "genomics.yaml",
            "alleles: alleles/DPYD.yaml",
            "alleles: alleles/DPYD.yml",
            "alleles: alleles/DPYD.yml",
            "DPYD: no allele table alleles/DPYD.yml",
            id="allele-table-path",
        ),
        pytest.param(
            Path("knowledge") / "genomics.yaml",
            "    sex_unknown: female",
            "    sex_unknown: woman",
            "  - gene: G6PD",
            "activity G6PD: sex_unknown 'woman' has no bands",
            id="activity-sex-unknown",
        ),
        pytest.param(
            Path("knowledge") / "genomics.yaml",
            '        - {phenotype: Normal, label: "80% or more: normal for a woman (WHO 2022)"}',
            '        - {below: 150, phenotype: Normal, label: "80-150%"}',
            "  - gene: G6PD",
            "activity G6PD: female: no last open band",
            id="activity-open-band",
        ),
        pytest.param(
            Path("knowledge") / "alleles" / "DPYD.yaml",
            '    aliases: ["*13", p.I560S, rs55886062]',
            '    aliases: ["*13", p.I560S, rs3918290]',
            "  - name: c.1679T>G",
            "allele name 'rs3918290' is listed twice",
            id="allele-twice",
        ),
        pytest.param(
            Path("knowledge") / "care.yaml",
            "    stage_group: [IV]",
            "    stage: [IV]",
            "    stage: [IV]",
            "advanced_cancer.findings: 'stage' is not a finding of oncology.yaml",
            id="care-advanced-finding",
        ),
        pytest.param(
            Path("knowledge") / "care.yaml",
            "    metastases: [M1]",
            "    metastases: [M1a]",
            "    metastases: [M1a]",
            "advanced_cancer.findings.metastases: 'M1a' is not a value oncology.yaml gives",
            id="care-advanced-value",
        ),
        pytest.param(
            Path("knowledge") / "care.yaml",
            "    primary_tumor: [T0, Tis, T1, T2, T3, T4]",
            "    primary_tumor: [T0, Tis, T1, T2, T3, T4a]",
            "    primary_tumor: [T0, Tis, T1, T2, T3, T4a]",
            "not_advanced.together.primary_tumor: 'T4a' is not a value oncology.yaml gives",
            id="care-not-advanced-value",
        ),
        pytest.param(
            Path("knowledge") / "procedures.yaml",
            "    follow_up: [PSA]",
            "    follow_up: [PSAA]",
            "    follow_up: [PSAA]",
            "radical_prostatectomy: follow_up 'PSAA' is not a finding of knowledge/oncology.yaml",
            id="follow-up-finding",
        ),
    ],
)
def test_knowledge_mistake_names_file_and_line(
    tmp_path: Path, file: Path, old: str, new: str, blamed: str, words: str
):
    rules = edit(tmp_path, old, new, file)
    (problem,) = problems(rules)
    assert problem.path == (rules / file).resolve()
    assert problem.line == line_of(rules, blamed, file)
    assert words in problem.message


def test_oncology_prefetch_asks_for_every_finding_code(rule_set: RuleSet):
    """A finding code the table lists but the prefetch omits would read as "not on file"."""
    wanted = {f"{system}|{code}" for system, code in rule_set.knowledge.oncology.codes}
    for service in rule_set.services.values():
        query = service.prefetch["oncology"]
        asked = set(query.split("code=", 1)[1].split(","))
        assert asked == wanted, service.id


BIOMARKERS = Path("knowledge") / "biomarkers.yaml"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        pytest.param(
            "        drugs: [encorafenib, cetuximab]",
            "        drugs: [encorafenib, cetuximabb]",
            "drugs: 'cetuximabb' is not a drug or class of drugs.yaml",
            id="therapy-drug",
        ),
        pytest.param(
            "      - sites: [stomach]",
            "      - sites: [gastric]",
            "sites: 'gastric' is not a cancer site of oncology.yaml (blood, breast, colon,",
            id="therapy-site",
        ),
        pytest.param(
            "        extent: advanced",
            "        extent: metastatic",
            "extent: 'metastatic' is not one of: advanced",
            id="therapy-extent",
        ),
        pytest.param(
            "    biomarkers: [ALK]",
            "    biomarkers: [ALK fusion]",
            "biomarkers: 'ALK fusion' is not a biomarker of this table (ALK, BRAF V600E,",
            id="requirement-biomarker",
        ),
        pytest.param(
            "      changes: ['\\bV600K\\b', 'Val600Lys']",
            "      changes: ['\\bV600K\\b', 'Val600Lys(']",
            "changes: 'Val600Lys(' is not a regular expression",
            id="change-pattern",
        ),
    ],
)
def test_biomarker_table_mistake_names_file_and_line(
    tmp_path: Path, old: str, new: str, words: str
):
    rules = edit(tmp_path, old, new, BIOMARKERS)
    (problem,) = problems(rules)
    assert problem.path == (rules / BIOMARKERS).resolve()
    assert problem.line == line_of(rules, new.strip(), BIOMARKERS)
    assert words in problem.message


def test_genomic_prefetch_asks_for_every_code_the_biomarker_table_reads(rule_set: RuleSet):
    """Variants and their interpretations by the genomics key; implications come with pgx."""
    table = rule_set.knowledge.biomarkers
    variants = {f"{system}|{code}" for system, code in table.variants.codes}
    interpretations = {f"{s}|{c}" for s, c in table.variants.interpretations}
    implications = {f"{s}|{c}" for s, c in table.implications.codes}
    for service in rule_set.services.values():
        asked = {
            key: set(service.prefetch[key].split("code=", 1)[1].split(","))
            for key in ("genomics", "pgx")
        }
        assert asked["genomics"] == variants | interpretations, service.id
        assert implications <= asked["pgx"], service.id


def test_the_image_carries_every_bundle_an_example_names(rule_set: RuleSet):
    """The Dockerfile ships rules/ and fixtures/fhir/bundles/ side by side, as in the repo."""
    bundles = ROOT / "fixtures" / "fhir" / "bundles"
    named = {
        (rule_file.path.parent / example["bundle"]).resolve()
        for rule_file in rule_set.files
        for example in rule_file.examples
        if "bundle" in example
    }
    assert named
    assert all(path.parent == bundles for path in named)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY rules/ /app/rules/" in dockerfile
    assert "COPY fixtures/fhir/bundles/ /app/fixtures/fhir/bundles/" in dockerfile
    assert "!fixtures/fhir/bundles" in (ROOT / ".dockerignore").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "blamed", "words"),
    [
        pytest.param(
            "  drugs: [carboplatin]",
            "  drugs: [carboplatine]",
            "  drugs: [carboplatine]",
            "auc_dosing.drugs: 'carboplatine' is not an ingredient of knowledge/drugs.yaml",
            id="auc-drug",
        ),
        pytest.param(
            "    creatinine: creatinine",
            "    creatinine: creatinin",
            "    creatinine: creatinin",
            "auc_dosing.cockcroft_gault.creatinine: 'creatinin' is not a finding of this table",
            id="formula-finding",
        ),
    ],
)
def test_oncology_table_mistake_names_file_and_line(
    tmp_path: Path, old: str, new: str, blamed: str, words: str
):
    table = Path("knowledge") / "oncology.yaml"
    rules = edit(tmp_path, old, new, table)
    (problem,) = problems(rules)
    assert problem.path == (rules / table).resolve()
    assert problem.line == line_of(rules, blamed, table)
    assert words in problem.message
