"""Partial answers: a prefetch key the service cannot get blocks only the checks that read it.

CDS Hooks 2.0.1 asks for a 412 when the service cannot get the data it needs. An EHR shows a 412
as nothing at all ("All clear"), so the service answers 412 only when no check can run; otherwise
it runs every check whose data it has and says, on a card, which checks could not run and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from cds_service.facts import extract
from cds_service.prefetch import keys as prefetch
from cds_service.protocol.yamlfile import load_yaml
from cds_service.ruleset.sources import UNDECLARED
from cds_service.service import parse_request, read_context
from tests.conftest import FIXTURES, RULES
from tests.fixture_cases import TODAY
from tests.servers import LiveService, authorized, fhir_server, live_service

NAME = "dpyd-c1905-het-capecitabine.order-sign"
PATH = "/cds-services/oncology-order-sign"


@pytest.fixture(scope="module")
def refusing() -> Iterator[tuple[str, LiveService]]:
    """The real FHIR server holding the DPYD patient, answering 400 to MedicationStatement."""
    bundle = FIXTURES / "bundles" / "dpyd-c1905-het-capecitabine.json"
    with (
        fhir_server(refuse="MedicationStatement", bundles=[bundle]) as base,
        live_service(fhir_servers=(base,), fhir_deadline=10.0) as service,
    ):
        yield base, service


def topics(cards: list[dict[str, Any]]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in cards]


def test_a_refused_search_names_the_checks_it_blocks_and_only_those(refusing):
    """Without MedicationStatement the DPYD start-dose check cannot run: an active statement of
    capecitabine would make this order a later cycle (course.py). The targeted-drug and
    anthracycline checks are left off: their facts are one per draft order of those drugs,
    and MedicationStatement changes only some of their attributes (fact_sources)."""
    base, service = refusing
    body = authorized(NAME, base)
    del body["prefetch"]
    response = service.post(PATH, json=body)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert topics(cards) == ["checks-not-run"]  # one card, never a silent all-clear
    (card,) = cards
    assert card["indicator"] == "warning"  # checks of the capecitabine order are among them
    assert "Capecitabine" in card["summary"]
    detail = card["detail"]
    query = "- prefetch 'statements' (MedicationStatement?patient=pt-dpyd-c1905-het&status=active)"
    assert query in detail
    assert "HTTP 400: Search on MedicationStatement is not supported" in detail
    assert "  - DPYD intermediate metabolizer, activity score 1" in detail
    # an inhibitor ordered for a patient taking tamoxifen is read from MedicationStatement
    assert (
        "  - A strong or moderate CYP2D6 inhibitor ordered for a patient taking tamoxifen" in detail
    )
    # no targeted drug, anthracycline, tamoxifen or endocrine therapy is ordered
    for title in (
        "Chemotherapy for advanced NSCLC with a driver on file and no matched therapy",
        "HER2-directed drug ordered with no HER2 result on file",
        "Cumulative dose above the ordered drug's labelled lifetime limit",
        "CYP2D6 poor metabolizer, postmenopausal, tamoxifen",
        "Endocrine therapy ordered alone",
    ):
        assert title not in detail
    assert "**Rule:** checks-not-run (service.data-quality" in detail  # traceable


def _views(found: list[Any]) -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for fact in found:
        view = fact.engine_view()
        by_kind.setdefault(str(view["t"]), []).append(view)
    return {kind: sorted(views, key=repr) for kind, views in by_kind.items()}


def _changed(full: list[dict[str, Any]], less: list[dict[str, Any]], kind: str) -> set[str]:
    """``kind`` if facts came or went, else each ``kind.attribute`` whose values differ."""
    if len(full) != len(less):
        return {kind}
    return {
        f"{kind}.{name}"
        for before, after in zip(full, less, strict=True)
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }


def test_fact_sources_name_every_fact_a_key_feeds(rule_set):
    """Under-declaring a key's facts would let a rule run on missing data as if on no data.

    Each fixture request that prefetches everything is read again without one key's data: every
    fact or attribute that changes must be declared for that key in services.yaml (fact_sources).
    """
    sources = {
        key: set(fed) for key, fed in load_yaml(RULES / "services.yaml")["fact_sources"].items()
    }
    undeclared: dict[str, set[str]] = {}
    checked = 0
    for path in sorted((FIXTURES / "requests").glob("*.json")):
        request = parse_request(json.loads(path.read_text(encoding="utf-8")))
        service = rule_set.service_for(request.hook)
        context = read_context(service, request)
        planned = prefetch.plan(request.prefetch, context, service.keys, TODAY)
        if planned.queries:
            continue
        checked += 1
        full = _views(extract(prefetch.record(context, planned, {}), rule_set.knowledge, TODAY))
        for spec in service.keys:
            without = replace(planned, have={**planned.have, spec.key: []})
            less = _views(extract(prefetch.record(context, without, {}), rule_set.knowledge, TODAY))
            for kind in (full.keys() | less.keys()) - UNDECLARED:
                for name in _changed(full.get(kind, []), less.get(kind, []), kind):
                    if name not in sources[spec.key] and kind not in sources[spec.key]:
                        undeclared.setdefault(spec.key, set()).add(name)
    assert checked > 100
    assert undeclared == {}
