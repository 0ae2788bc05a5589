"""A property-based fuzzer over every fixture request (issue 12): no 5xx, a valid CDS Hooks
answer, no fault of the service on the record, and no card lost that does not depend on what was
mutated.

The suite runs a bounded profile: every fixture once with a mutation drawn from its name, then
hypothesis for a fixed number of examples. ``bench/fuzz.py`` runs the same mutations by the
tens of thousands against a running server. What a mutation does and what "depends" means are
in ``tests/mutations.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.protocol.messages import CdsResponse
from cds_service.ruleset.compiled import RuleSet
from tests import mutations
from tests.conftest import Client, client_for

NAMES = mutations.fixture_names()


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[Client]:
    with client_for(max_body_bytes=8 * 1024 * 1024) as client:
        yield client


def rule_facts(rule_set: RuleSet) -> dict[str, frozenset[str]]:
    """Per rule id, the fact kinds its conditions test (present or absent)."""
    return {
        rule.id: frozenset(str(spec.get("fact")) for spec in rule.when.values())
        for rule in rule_set.rules.values()
    }


def post(client: Client, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    path = f"/cds-services/oncology-{request.get('hook')}"
    response = client.post(path, json=request)
    return response.status_code, response.json()


_BASELINES: dict[str, list[dict[str, Any]]] = {}
"""The cards of each fixture as sent, from the module's one app."""


def baseline(client: Client, name: str) -> list[dict[str, Any]]:
    if name not in _BASELINES:
        status, body = post(client, mutations.load(name))
        assert status == 200, (name, body)
        _BASELINES[name] = body["cards"]
    return _BASELINES[name]


def check(
    client: Client, name: str, rng: random.Random, facts: Mapping[str, frozenset[str]]
) -> None:
    request, mutation = mutations.mutate(name, mutations.load(name), rng)
    status, body = post(client, request)
    assert status < 500, (mutation, body)
    if status >= 400:
        assert body["resourceType"] == "OperationOutcome", (mutation, body)
        assert body["issue"], (mutation, body)
        return
    assert status == 200, (mutation, status)
    answer = CdsResponse.model_validate(body)  # the spec's invariants, summary < 140 included
    cards = [card.wire() for card in answer.cards]
    assert not mutations.faulted(cards), (mutation, cards)  # a defect, though answered
    lost = mutations.unchanged_cards_missing(baseline(client, name), cards, mutation, facts)
    assert not lost, (mutation, lost)


@pytest.mark.parametrize("name", NAMES)
def test_one_mutation_of_every_fixture(fuzz_client: Client, rule_set: RuleSet, name: str):
    check(fuzz_client, name, random.Random(name), rule_facts(rule_set))


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(NAMES), rng=st.randoms(use_true_random=False))
def test_mutated_requests(
    fuzz_client: Client, rule_set: RuleSet, name: str, rng: random.Random
) -> None:
    check(fuzz_client, name, rng, rule_facts(rule_set))


def test_the_metamorphic_check_can_fail() -> None:
    """A card that cites nothing mutated, from a rule that reads no Procedure, must stay."""
    card = {
        "uuid": "u",
        "summary": "s",
        "indicator": "info",
        "source": {"topic": {"code": "r"}},
    }
    mutation = mutations.Mutation("f", "Procedure/p", "Procedure", "delete", ".code")
    facts = {"r": frozenset({"draft_med"})}
    assert mutations.unchanged_cards_missing([card], [], mutation, facts) == ["r: s"]
    assert mutations.unchanged_cards_missing([card], [card], mutation, facts) == []
    reads = {"r": frozenset({"procedure"})}
    assert mutations.unchanged_cards_missing([card], [], mutation, reads) == []
