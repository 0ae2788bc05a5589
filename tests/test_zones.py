"""Time zones: "today" and times sent without a zone are the service's zone (CDS_TIMEZONE).

R4 requires a zone on a dateTime with a time; real EHR exports often leave it out. Such a time
is read in the service's zone, and the card that uses it says so, instead of the result being
unreadable and the check not running.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cds_service.config import Settings
from cds_service.prefetch.zones import _ZONELESS, zoned_member, zoneless
from tests.conftest import FIXTURES, client_for

CREATININE = "Observation/obs-creatinine-carboplatin-auc5-11pct-above"


def test_today_is_the_date_in_the_service_zone():
    east, west = Settings(timezone="Pacific/Kiritimati"), Settings(timezone="Etc/GMT+12")
    assert east.day() - west.day() >= timedelta(days=1)  # UTC+14 and UTC-12: 26 hours apart
    assert Settings().day() == datetime.now(ZoneInfo("UTC")).date()  # the default is UTC


def test_an_unknown_zone_stops_the_service_at_start(monkeypatch):
    monkeypatch.setenv("CDS_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="CDS_TIMEZONE"):
        Settings.from_env()
    monkeypatch.setenv("CDS_TIMEZONE", "America/Chicago")
    assert Settings.from_env().timezone == "America/Chicago"


@pytest.mark.parametrize(("zone", "offset"), [("UTC", "+00:00"), ("America/Chicago", "-05:00")])
def test_a_creatinine_without_a_zone_is_read_in_the_service_zone(zone: str, offset: str):
    body = json.loads(
        (FIXTURES / "edge-cases" / "carboplatin-creatinine-no-zone.order-sign.json").read_text()
    )
    with client_for(timezone=zone) as client:
        response = client.post("/cds-services/oncology-order-sign", json=body)
    assert response.status_code == 200, response.text
    cards = {c["source"]["topic"]["code"]: c for c in response.json()["cards"]}
    assert "carboplatin-not-checked" not in cards
    assert "finding-unreadable" not in cards
    detail = cards["carboplatin-dose-off"]["detail"]
    assert "10.71% above the Calvert dose" in cards["carboplatin-dose-off"]["summary"]
    assert f"{CREATININE}: effectiveDateTime 2026-09-20T08:30:00 has no time zone" in detail
    assert f"read as 2026-09-20T08:30:00{offset} ({zone}, CDS_TIMEZONE)" in detail


def test_a_zoneless_time_is_found_wherever_it_sits_in_a_member():
    """A member is walked only when its JSON holds a zone-less time: none may be missed."""
    chicago = ZoneInfo("America/Chicago")
    deep = [{"valuePeriod": {"start": "2026-09-20T08:30", "end": "2026-09-20T09:00:00Z"}}]
    found: list[str] = []
    assert zoned_member("component", deep, chicago, found) == [
        {"valuePeriod": {"start": "2026-09-20T08:30:00-05:00", "end": "2026-09-20T09:00:00Z"}}
    ]
    assert found == [
        "component[0].valuePeriod.start 2026-09-20T08:30 has no time zone (FHIR R4 requires "
        "one); read as 2026-09-20T08:30:00-05:00 (America/Chicago, CDS_TIMEZONE)"
    ]
    for fine in (
        {"start": "2026-09-20T08:30:00+02:00"},
        {"start": "2026-09-20"},
        [{"text": "taken 2026-09-20T08:30:00 at home"}],  # words, not a time
        {"2026-09-20T08:30:00": "a key is not a time"},
    ):
        quiet: list[str] = []
        assert zoned_member("x", fine, chicago, quiet) == fine
        assert quiet == []


def test_a_time_without_a_zone_is_told_as_the_pattern_tells_it():
    """``zoneless`` looks at a few characters before it matches the pattern: it must say what
    the pattern says, on every way a time can be cut short, lose or change its zone."""
    whole = "2026-09-20T08:30:00.123456789+05:00"
    texts = {whole[:n] for n in range(len(whole) + 1)}
    texts |= {t + end for t in set(texts) for end in ("Z", "+05:00", "-05:00", " ", "-", "+")}
    texts |= {t[:i] + c + t[i + 1 :] for t in set(texts) for i in range(len(t)) for c in "T:-+Z0"}
    told = [text for text in texts if zoneless(text)]
    assert all(zoneless(text) == bool(_ZONELESS.fullmatch(text)) for text in texts)
    assert len(told) > 100
