"""Knowledge tables from ``rules/knowledge/``, loaded together and checked against each other.

The tables are data an informaticist edits. The drug and condition tables are typed here (which
ingredient is this order, is this condition a malignancy); the others have their own modules
(``genomics.py`` with the allele tables, ``oncology.py``, ``care.py``, ``procedures.py``,
``biomarkers.py``, ``cumulative.py``). A name one table gives another (a drug, a finding, a
site) that the other lacks is refused here, with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..protocol.fhir import Code
from ..protocol.yamlfile import RuleFileError, line_of, load_yaml
from .anthracyclines import CumulativeDosing, load_cumulative
from .biomarkers import Biomarkers, load_biomarkers
from .care import Care, load_care
from .genomics import Genomics, load_genomics
from .oncology import Oncology, load_oncology
from .plausibility import Plausibility, load_plausibility
from .procedures import Procedures, load_procedures
from .words import word_pattern


@dataclass(frozen=True)
class Strengths:
    """The sizes a solid oral dose is made of: capecitabine tablets of 150 and 500 mg."""

    form: str
    forms: str
    """The form's plural, as a prescriber writes it ("tablets")."""
    unit: str
    sizes: tuple[float, ...]


@dataclass(frozen=True)
class DrugTable:
    by_code: Mapping[str, str]
    """RxNorm code -> ingredient."""
    names: tuple[tuple[re.Pattern[str], str], ...]
    """Word pattern of a name or brand -> ingredient; product forms first, then longest first."""
    classes: Mapping[str, tuple[str, ...]]
    forms: Mapping[str, str] = field(default_factory=dict)
    """Product form (liposomal irinotecan) -> the ingredient whose RxNorm code it shares."""
    inhibits: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Ingredient -> enzyme (gene) -> inhibitor strength."""
    full_starting_doses: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Ingredient -> dose unit -> the lowest labelled full starting dose in that unit."""
    strengths: Mapping[str, Strengths] = field(default_factory=dict)
    """Ingredient -> the unit sizes an oral dose is made of."""
    route_forms: Mapping[str, tuple[tuple[re.Pattern[str], str], ...]] = field(default_factory=dict)
    """Ingredient -> (a word of a route, the product form given by it): "topical" -> cream."""
    administration_statuses: tuple[str, ...] = ()
    request_statuses: tuple[str, ...] = ()
    """What counts as an earlier dose of a drug (``treatment_history``)."""
    contains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Regimen or combination product (FOLFOX, S-1) -> the ingredients it is read as."""
    daily_full_doses: frozenset[str] = frozenset()
    """Ingredients whose full starting doses are per day (``per: day``): an order's dose is
    multiplied by its doses a day before it is compared (mercaptopurine, CPIC: mg/m2/day)."""
    _by_first_word: Mapping[str, tuple[int, ...]] = field(init=False, repr=False)
    """First word of a name, case-folded -> the positions in ``names`` of names starting so."""

    def __post_init__(self) -> None:
        # Most medication texts name no drug in the table; trying all ~200 patterns on each one
        # was most of what an extra medication cost. A name can only match where the text has
        # its first word, so one pass over the text's words picks the few patterns worth trying.
        index: dict[str, list[int]] = {}
        for position, (pattern, _) in enumerate(self.names):
            index.setdefault(_first_word(pattern), []).append(position)
        object.__setattr__(self, "_by_first_word", {k: tuple(v) for k, v in index.items()})

    @cached_property
    def ingredients(self) -> frozenset[str]:
        """Every ingredient a name is read as: made once, as every first call asks for it."""
        return frozenset(ingredient for _, ingredient in self.names)

    def by_rxnorm(self, code: str) -> str | None:
        return self.by_code.get(code)

    def by_name(self, text: str) -> str | None:
        words = {word.casefold() for word in _WORD.findall(text)}
        candidates = sorted(p for word in words for p in self._by_first_word.get(word, ()))
        for position in candidates:
            pattern, ingredient = self.names[position]
            if pattern.search(text):
                return ingredient
        return None

    def components(self, drug: str) -> tuple[str, ...]:
        """What an order of ``drug`` gives: a regimen's ingredients, else the drug itself."""
        return self.contains.get(drug, (drug,))

    def form(self, ingredient: str, texts: Iterable[str]) -> str:
        """The product form a text names if it is a form of ``ingredient``, else the ingredient.

        A form given by another route is also found by a word of that route in the drug's text
        ("fluorouracil 50 MG/ML Topical Cream"), never for a drug that is not its ingredient.
        """
        texts = list(texts)
        for text in texts:
            named = self.by_name(text)
            if named and self.forms.get(named) == ingredient:
                return named
        for pattern, form in self.route_forms.get(ingredient, ()):
            if any(pattern.search(text) for text in texts):
                return form
        return ingredient


@dataclass(frozen=True)
class Clinical:
    """Condition bindings: malignant or not, and the recorded menopausal status."""

    indication_profiles: Mapping[str, str]
    """Profile URL -> indication."""
    indication_codes: Mapping[Code, str]
    indication_words: tuple[tuple[re.Pattern[str], str], ...]
    menopause_codes: Mapping[Code, str]
    postmenopausal_from_age: float
    menopause_not_applicable: frozenset[str]
    """``Patient.gender`` values for which a menopausal status does not apply."""
    not_verified: frozenset[str]
    """``Condition.verificationStatus`` codes that make a Condition no diagnosis."""
    not_diagnosis_words: tuple[re.Pattern[str], ...]
    """Words ("suspected") that make a Condition no diagnosis."""

    def diagnosis(self, verification: Iterable[str], texts: Iterable[str]) -> bool:
        """Whether a Condition states a diagnosis: not unconfirmed, refuted or "suspected"."""
        if not self.not_verified.isdisjoint(verification):
            return False
        return not any(p.search(text) for text in texts for p in self.not_diagnosis_words)

    def indication(
        self, profiles: Iterable[str], codes: Iterable[Code], texts: Iterable[str]
    ) -> str | None:
        """``malignant``, ``non-malignant`` or None, by profile, then code, then words."""
        for profile in profiles:
            if profile in self.indication_profiles:
                return self.indication_profiles[profile]
        for code in codes:
            if code in self.indication_codes:
                return self.indication_codes[code]
        for text in texts:
            for pattern, indication in self.indication_words:
                if pattern.search(text):
                    return indication
        return None


@dataclass(frozen=True)
class Knowledge:
    drugs: DrugTable
    genomics: Genomics
    clinical: Clinical
    oncology: Oncology
    care: Care
    procedures: Procedures
    biomarkers: Biomarkers
    anthracyclines: CumulativeDosing
    plausibility: Plausibility


_WORD = re.compile(r"\w+")


def _first_word(pattern: re.Pattern[str]) -> str:
    """The first word of the name a :func:`word_pattern` was made from."""
    name = re.sub(r"\\(.)", r"\1", pattern.pattern.removeprefix(r"(?<![\w-])"))
    first = _WORD.match(name)
    if first is None:
        raise ValueError(f"a drug name must start with a letter or digit: {name!r}")
    return first.group().casefold()


def load_knowledge(directory: Path) -> Knowledge:
    drugs_file = directory / "drugs.yaml"
    genomics_file = directory / "genomics.yaml"
    conditions_file = directory / "conditions.yaml"
    oncology_file = directory / "oncology.yaml"
    care_file = directory / "care.yaml"
    procedures_file = directory / "procedures.yaml"
    drugs_doc = load_yaml(drugs_file)
    drugs = _drug_table(drugs_doc, drugs_file)
    oncology_doc = load_yaml(oncology_file)
    oncology = load_oncology(oncology_doc, oncology_file)
    unknown = sorted(oncology.auc.drugs - drugs.ingredients)
    if unknown:
        message = f"auc_dosing.drugs: {unknown[0]!r} is not an ingredient of knowledge/drugs.yaml"
        raise RuleFileError(oncology_file, message, line_of(oncology_doc["auc_dosing"], "drugs"))
    biomarkers_file = directory / "biomarkers.yaml"
    biomarkers = load_biomarkers(
        load_yaml(biomarkers_file),
        biomarkers_file,
        drugs=drugs.ingredients,
        classes=drugs.classes,
        sites=frozenset(site.name for site in oncology.sites),
        findings=frozenset(oncology.findings),
    )
    plausible_file = directory / "plausibility.yaml"
    anthracyclines_file = directory / "anthracyclines.yaml"
    procedures = load_procedures(load_yaml(procedures_file), procedures_file, oncology.findings)
    anthracyclines = load_cumulative(
        load_yaml(anthracyclines_file),
        anthracyclines_file,
        drugs.ingredients,
        oncology.findings,
        procedures.names,
    )
    return Knowledge(
        drugs,
        load_genomics(load_yaml(genomics_file), genomics_file),
        _clinical(load_yaml(conditions_file), conditions_file),
        oncology,
        load_care(load_yaml(care_file), care_file, oncology),
        procedures,
        biomarkers,
        anthracyclines,
        load_plausibility(load_yaml(plausible_file), plausible_file, oncology.findings),
    )


def _drug_table(doc: Mapping[str, Any], path: Path) -> DrugTable:
    by_code: dict[str, str] = {}
    names: list[tuple[re.Pattern[str], str]] = []
    drugs = doc["drugs"]
    forms: dict[str, str] = {}
    inhibits: dict[str, dict[str, str]] = {}
    full: dict[str, dict[str, float]] = {}
    daily: set[str] = set()
    strengths: dict[str, Strengths] = {}
    contains: dict[str, tuple[str, ...]] = {}
    for ingredient, entry in drugs.items():
        for code in entry.get("rxnorm", []):
            by_code[code] = ingredient
        for name in [ingredient, *entry.get("names", [])]:
            names.append((word_pattern(name), ingredient))
        if entry.get("form_of"):
            if entry["form_of"] not in drugs:
                message = f"{ingredient}: form_of unknown drug {entry['form_of']}"
                raise RuleFileError(path, message, line_of(entry, "form_of"))
            forms[ingredient] = entry["form_of"]
        if entry.get("inhibits"):
            inhibits[ingredient] = {str(k): str(v) for k, v in entry["inhibits"].items()}
        if entry.get("full_starting_doses"):
            full[ingredient] = {
                str(d["unit"]): float(d["dose"]) for d in entry["full_starting_doses"]
            }
            if any(d.get("per") == "day" for d in entry["full_starting_doses"]):
                daily.add(ingredient)
        if entry.get("strengths"):
            made = entry["strengths"]
            sizes = tuple(sorted(float(x) for x in made["sizes"]))
            strengths[ingredient] = Strengths(made["form"], made["forms"], made["unit"], sizes)
        if entry.get("contains"):
            for part in entry["contains"]:
                if part not in drugs or drugs[part].get("contains"):
                    message = f"{ingredient}: contains {part!r}, which is not a single drug here"
                    raise RuleFileError(path, message, line_of(entry, "contains"))
            contains[ingredient] = tuple(entry["contains"])
    written = doc["classes"]
    classes = {name: tuple(members) for name, members in written.items()}
    for name, members in classes.items():
        for member in members:
            if member not in drugs:
                raise RuleFileError(
                    path, f"class {name}: unknown drug {member}", line_of(written, name)
                )
    # product forms and regimens first ("irinotecan (Onivyde)", "FOLFIRI: irinotecan, ..."),
    # then the longest name: "5-fluorouracil"
    names.sort(key=lambda item: (item[1] not in forms | contains.keys(), -len(item[0].pattern)))
    route_forms: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for ingredient, entry in drugs.items():
        if entry.get("route") and entry.get("form_of"):
            words = doc.get("route_words", {}).get(entry["route"])
            if not words:
                message = f"{ingredient}: route {entry['route']} has no route_words"
                raise RuleFileError(path, message, line_of(entry, "route"))
            route_forms.setdefault(entry["form_of"], []).extend(
                (word_pattern(word), ingredient) for word in words
            )
    history = doc["treatment_history"]
    return DrugTable(
        by_code,
        tuple(names),
        classes,
        forms,
        inhibits,
        full,
        strengths,
        {k: tuple(v) for k, v in route_forms.items()},
        tuple(history["administration_statuses"]),
        tuple(history["request_statuses"]),
        contains,
        frozenset(daily),
    )


def _clinical(doc: Mapping[str, Any], path: Path) -> Clinical:
    profiles: dict[str, str] = {}
    codes: dict[Code, str] = {}
    words: list[tuple[re.Pattern[str], str]] = []
    for indication, entry in doc["indications"].items():
        profiles.update(dict.fromkeys(entry.get("profiles") or (), indication))
        codes.update({(c["system"], c["code"]): indication for c in entry.get("codes") or ()})
        words.extend((word_pattern(w), indication) for w in entry.get("words") or ())
    menopause = doc["menopause"]
    return Clinical(
        indication_profiles=profiles,
        indication_codes=codes,
        indication_words=tuple(words),
        menopause_codes={(c["system"], c["code"]): c["status"] for c in menopause["codes"]},
        postmenopausal_from_age=float(menopause["postmenopausal_from_age"]),
        menopause_not_applicable=frozenset(menopause["not_applicable_for"]),
        not_verified=frozenset(doc["not_diagnoses"]["verification"]),
        not_diagnosis_words=tuple(map(word_pattern, doc["not_diagnoses"].get("words") or ())),
    )
