"""UGT1A1 and nilotinib, pazopanib: information at order entry, never a dose change.

The Tasigna and Votrient labels report more hyperbilirubinemia in UGT1A1*28 homozygotes and
change no dose (rules/pgx/ugt1a1-nilotinib-pazopanib.yaml). A prescriber must get the card
without a suggestion that would rewrite the order, and an intermediate or normal metabolizer
must get nothing.
"""

from __future__ import annotations

import pytest

from tests.conftest import Client, request_fixture


def _cards(client: Client, name: str) -> list[dict]:
    body = request_fixture(f"{name}.order-sign")
    return client.post("/cds-services/oncology-order-sign", json=body).json()["cards"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("ugt1a1-28-28-nilotinib", "ugt1a1-poor-nilotinib"),
        ("ugt1a1-6-28-pazopanib", "ugt1a1-poor-pazopanib"),
    ],
)
def test_poor_metabolizer_is_told_and_the_order_is_left_alone(client: Client, name, rule):
    (card,) = _cards(client, name)
    assert card["source"]["topic"]["code"] == rule
    assert card["indicator"] == "info"
    assert not card.get("suggestions")  # the labels change no dose
    assert "no dose change" in card["detail"]
    assert "Poor metabolizer" in card["detail"]


@pytest.mark.parametrize("name", ["ugt1a1-1-28-nilotinib", "ugt1a1-1-1-pazopanib"])
def test_intermediate_or_normal_metabolizer_gets_no_card(client: Client, name):
    assert _cards(client, name) == []
