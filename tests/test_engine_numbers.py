"""Every finite number reaches the engine as itself; one it cannot take is said, not dropped.

durable-rules reads JSON with its own C parser, which accepts an exponent only after a fraction
(``1.0e-6``); ``1e-6``, the shortest form orjson and ``repr`` write for numbers below 1e-5 or from
1e16 up, is read as ``1`` followed by garbage, and the process crashes or the batch matches
nothing. The raw reproduction runs in a subprocess so that the crash cannot take the test run down.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service import facts, service
from cds_service.engine.admission import admit
from cds_service.engine.durable import CompiledRules
from cds_service.engine.encoding import FactRefused, engine_number
from cds_service.knowledge.plausibility import Plausibility
from cds_service.prefetch import keys
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import request_fixture
from tests.fixture_cases import TODAY
from tests.test_engine import raw

SCHEMA = {"lab": {"name": str, "value": float}}
THRESHOLD = 0.2
RULES = {
    "present": [("lab", {"$and": [{"t": "lab"}, {"name": "PSA"}]})],
    "below": [("lab", {"$and": [{"t": "lab"}, {"$lt": {"value": THRESHOLD}}]})],
    "at-or-above": [("lab", {"$and": [{"t": "lab"}, {"$gte": {"value": THRESHOLD}}]})],
}
EXTREMES = [
    1e-6,
    -1e-6,
    1e-300,
    1e16,
    1e300,
    -1e300,
    5e-324,
    -5e-324,
    0.0,
    -0.0,
    1.7976931348623157e308,
]
finite = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("literal", ["1e-6", "1e+16", "5e-324"])
def test_defect_an_exponent_without_a_fraction_breaks_the_engine(literal: str):
    fact = '{"t":"x","v":%s,"sid":"s","id":"1"},{"t":"$s","sid":"s","id":"2"}'
    script = f"""
        rules = {{"r": {{"all": [{{"a": {{"t": "x"}}}}]}},
                 "$s": {{"all": [{{"m": {{"t": "$s"}}}}]}}}}
        handle = dre.create_ruleset("p", json.dumps(rules))
        _, state = dre.assert_facts(handle, '[{fact % literal}]')
        result = dre.start_action_for_state(handle, state)
        print("fired", result[1] if result else None)
    """
    broken = raw(script)
    assert broken.returncode != 0 or '"r"' not in broken.stdout
    fixed = raw(script.replace(literal, literal.replace("e", ".0e")))
    assert fixed.returncode == 0
    assert '"r"' in fixed.stdout


@given(finite)
def test_engine_number_reads_back_as_the_same_float(value: float):
    text = engine_number(value)
    assert float(text) == value
    assert math.copysign(1, float(text)) == math.copysign(1, value)
    mantissa = text.partition("e")[0]
    assert "e" not in text or "." in mantissa


@pytest.fixture(scope="module")
def threshold_rules():
    compiled = CompiledRules(RULES, SCHEMA)
    yield compiled
    compiled.close()


@settings(max_examples=300, deadline=None)
@given(finite)
def test_every_finite_value_is_compared_as_itself(threshold_rules: CompiledRules, value: float):
    fired = {
        m.rule_id for m in threshold_rules.evaluate([{"t": "lab", "name": "PSA", "value": value}])
    }
    assert fired == {"present", "below" if value < THRESHOLD else "at-or-above"}


@pytest.mark.parametrize("value", EXTREMES)
def test_a_rule_literal_of_any_size_is_read_exactly(value: float):
    rules = {"equal": [("lab", {"$and": [{"t": "lab"}, {"value": value}]})]}
    compiled = CompiledRules(rules, SCHEMA)
    try:
        neighbour = math.nextafter(value, 0.0) if value else 5e-324
        for candidate, expected in ((value, True), (neighbour, False)):
            fired = compiled.evaluate([{"t": "lab", "value": candidate}])
            assert bool(fired) is expected, (value, candidate)
    finally:
        compiled.close()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_value_the_engine_cannot_take_is_refused_not_sent(threshold_rules, value: float):
    with pytest.raises(FactRefused, match="value"):
        threshold_rules.evaluate([{"t": "lab", "name": "PSA", "value": value}])


def test_a_fact_with_such_a_value_becomes_unreadable_with_its_finding():
    psa = facts.Finding(finding="PSA", number=math.inf, unit="ng/mL", sources=("Observation/p",))
    ecog = facts.Finding(finding="ECOG", number=1.0, sources=("Observation/e",))
    admitted = admit([psa, ecog])
    assert admitted[1] is ecog
    note = admitted[0]
    assert isinstance(note, facts.Unreadable)
    assert (note.resource, note.resource_type, note.role, note.finding) == (
        "Observation/p",
        "Observation",
        "record",
        "PSA",
    )
    assert "number" in note.reason
    assert "inf" in note.reason


def test_an_order_fact_with_such_a_value_is_an_unreadable_draft_order():
    order = facts.DraftMedication(
        order="MedicationRequest/m",
        drug="capecitabine",
        ingredient="capecitabine",
        dose_value=math.nan,
        sources=("MedicationRequest/m",),
    )
    (note,) = admit([order])
    assert isinstance(note, facts.Unreadable)
    assert (note.role, note.ingredient, note.resource) == (
        "draft_order",
        "capecitabine",
        "MedicationRequest/m",
    )


# Where a fixture request holds the number, by a path of keys (``*``: the list item holding the
# original value, the last item), and the threshold its rules compare it with (None: no rule does).
PLACES: dict[str, tuple[tuple[Any, ...], float | None]] = {
    "decipher-psa-0p2.patient-view": (
        ("prefetch", "oncology", "entry", "*", "resource", "valueQuantity", "value", 0.2),
        0.2,
    ),
    "dpyd-c1905-het-capecitabine.order-sign": (
        (
            "context",
            "draftOrders",
            "entry",
            0,
            "resource",
            "dosageInstruction",
            0,
            "doseAndRate",
            0,
            "doseQuantity",
            "value",
            1000,
        ),
        1000,  # capecitabine's full starting dose: a first order below it is already reduced
    ),
}
LOW, HIGH = 0.01, 5000.0
"""Ordinary values on either side of every threshold above."""


def _set(body: dict[str, Any], path: tuple[Any, ...], value: float) -> None:
    *keys, leaf, original = path
    node: Any = body
    for index, key in enumerate(keys):
        if key == "*":
            rest = (*keys[index + 1 :], leaf)
            node = next(item for item in node if _get(item, rest) == original)
        else:
            node = node[key]
    assert node[leaf] == original
    node[leaf] = value


def _get(node: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _fired(rule_set: RuleSet, name: str, value: float) -> set[str]:
    """The rules that fire for the fixture with ``value`` put in: what the engine decides.

    The cards are not rendered, and the plausibility ranges are set aside: they make an absurd
    value unreadable before it reaches the engine (``knowledge/plausibility.py``), and this
    is about what the engine does with any number it is given.
    """
    body = request_fixture(name)
    _set(body, PLACES[name][0], value)
    request = service.parse_request(body)
    chosen = rule_set.service_for(request.hook)
    assert chosen is not None
    context = service.read_context(chosen, request)
    planned = keys.plan(request.prefetch, context, chosen.keys, TODAY)
    knowledge = replace(rule_set.knowledge, plausibility=Plausibility(findings={}, doses={}))
    found = admit(facts.extract(keys.record(context, planned, {}), knowledge, TODAY))
    return {rule.id for rule, _ in rule_set.evaluate(chosen.hook, found)}


def _ordinary(name: str, value: float) -> float:
    """An ordinary number on the same side of the fixture's threshold as ``value``."""
    threshold = PLACES[name][1]
    return LOW if threshold is not None and value < threshold else HIGH


@pytest.mark.parametrize("name", list(PLACES))
@pytest.mark.parametrize("value", [1e-6, 1e-300, 1e16, 1e300, 5e-324, -0.0, 1e-5, 9.99e15])
def test_an_extreme_number_fires_the_rules_an_ordinary_one_fires(
    rule_set: RuleSet, name: str, value: float
):
    """The rules fired are those of an ordinary value on the same side of the threshold."""
    assert _fired(rule_set, name, value) == _fired(rule_set, name, _ordinary(name, value))


@settings(max_examples=40, deadline=None)
@given(finite)
def test_any_finite_dose_keeps_the_dpyd_card(rule_set: RuleSet, value: float):
    """The DPYD card, or (a dose whose computed values overflow) a card that the order could
    not be checked: never nothing."""
    name = "dpyd-c1905-het-capecitabine.order-sign"
    fired = _fired(rule_set, name, value)
    said = {"draft-order-unreadable"} & fired
    assert said or any(rule.startswith("dpyd-intermediate") for rule in fired), fired


def test_a_total_that_overflows_is_said_not_silently_dropped(rule_set: RuleSet):
    """Two past doses of 1.7e308 mg/m2 would add up to infinity: the total is reported as not
    computed, naming the doses (they are outside the plausible range, so none is summed)."""
    body = request_fixture("anthracycline-240-plus-50.order-sign")
    doses = [
        entry["resource"]["dosage"]["dose"]
        for entry in body["prefetch"]["administrations"]["entry"]
        if entry["resource"]["resourceType"] == "MedicationAdministration"
    ]
    for dose in doses[:2]:
        dose["value"] = 1.7e308
    request = service.parse_request(body)
    chosen = rule_set.service_for(request.hook)
    assert chosen is not None
    cards = service.call(chosen, request, rule_set, TODAY).cards
    (card,) = [
        c
        for c in cards
        if c.source.topic and c.source.topic.code == "anthracycline-dose-not-computed"
    ]
    assert (card.detail or "").count("1.7e+308 mg/m2: implausible") >= 2  # both doses named


@settings(max_examples=40, deadline=None)
@given(finite)
def test_any_finite_psa_fires_what_an_ordinary_one_on_its_side_fires(
    rule_set: RuleSet, value: float
):
    name = "decipher-psa-0p2.patient-view"
    assert _fired(rule_set, name, value) == _fired(rule_set, name, _ordinary(name, value))


def test_text_that_is_not_unicode_is_refused_and_noted_without_it():
    """A lone surrogate cannot be written as JSON; the note must not carry it either."""
    broken = facts.Finding(finding="PSA\ud800", reported="0.2 \ud800", sources=("Observation/p",))
    (note,) = admit([broken])
    assert isinstance(note, facts.Unreadable)
    assert (note.resource, note.finding) == ("Observation/p", None)
    assert "not valid Unicode" in note.reason
    engine = CompiledRules({"any": [("lab", {"t": "lab"})]}, SCHEMA)
    try:
        with pytest.raises(FactRefused, match="Unicode"):
            engine.evaluate([{"t": "lab", "name": "PSA\ud800"}])
    finally:
        engine.close()
