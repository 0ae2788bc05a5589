"""The FHIR allow-list compares the URL that will be requested, whatever its spelling.

Issue 14: ``fhirServer: http://allowed-host/fhir/%2e%2e/admin`` passed the check and every query
went to ``/admin``. A server (and httpx) decodes unreserved escapes and removes dot segments; the
model of it below is what a property test checks every accepted URL against.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_service.auth.fhirurl import allowed_base, normalised, under
from tests.servers import StandIn, authorized, live_service

ALLOWED = ("https://ehr.example.org/fhir",)


def as_served(url: httpx.URL) -> tuple[str, str, int | None, str]:
    """Where a lenient server sends a request: escapes decoded (``%2F`` too), dots removed."""
    path = unquote(url.raw_path.decode().split("?")[0]).replace("\\", "/")
    path = re.sub(r";[^/]*", "", path)  # ..;/ is .. to some Java servers
    served = posixpath.normpath(path) if path else "/"
    return url.scheme, url.host, url.port, served.rstrip("/") + "/"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("HTTPS://EHR.Example.ORG:443/fhir", "https://ehr.example.org/fhir/"),
        ("https://ehr.example.org/%66hir/", "https://ehr.example.org/fhir/"),
        ("https://ehr.example.org/fhir/r%34/a%7eb", "https://ehr.example.org/fhir/r4/a~b/"),
        ("https://ehr.example.org/fhir/a%c3%a9", "https://ehr.example.org/fhir/a%C3%A9/"),
        ("http://[0:0::1]:80/fhir", "http://[::1]/fhir/"),
        ("http://127.0.0.1:8080/fhir/", "http://127.0.0.1:8080/fhir/"),
    ],
)
def test_one_spelling_per_url(written: str, canonical: str):
    assert normalised(written) == canonical


@pytest.mark.parametrize(
    "server",
    [
        "https://ehr.example.org/fhir/%2e%2e/admin",
        "https://ehr.example.org/fhir/%2E%2e/admin",
        "https://ehr.example.org/fhir/.%2e/admin",
        "https://ehr.example.org/fhir/../admin",
        "https://ehr.example.org/fhir/./r4",
        "https://ehr.example.org/fhir/..;/admin",
        "https://ehr.example.org/fhir/x%2f..%2f..%2fadmin",
        "https://ehr.example.org/fhir/x%5c..%5cadmin",
        "https://ehr.example.org/fhir//admin",
        "https://ehr.example.org/fhir/%zz",
        "https://user@ehr.example.org/fhir",
        "https://ehr.example.org@evil.test/fhir",
        "https://ehr.example.org/fhir?x=1",
        "https://ehr.example.org/fhir#x",
        "https://ehr.example.org:99999/fhir",
        "https://ehr%2eexample.org/fhir",
        "file:///etc/passwd",
    ],
)
def test_every_way_of_walking_out_is_refused(server: str):
    assert allowed_base(server, ALLOWED) is None


SEGMENTS = st.sampled_from(
    [
        "fhir",
        "FHIR",
        "admin",
        "r4",
        "",
        ".",
        "..",
        "%2e",
        "%2E",
        "%2e%2e",
        ".%2e",
        "%2f",
        "%2F",
        "%5c",
        "..;",
        ";x",
        "%66hir",
        "a%20b",
        "%",
        "~u",
        "@",
        ":",
        "%252e",
    ]
)
PREFIXES = st.sampled_from(
    [
        "https://ehr.example.org",
        "HTTPS://EHR.EXAMPLE.ORG",
        "https://ehr.example.org:443",
        "https://ehr.example.org:8443",
        "http://ehr.example.org",
        "https://u:p@ehr.example.org",
        "https://ehr.example.org.evil.test",
        "https://[::1]",
        "https://ehr.example.org:0443",
    ]
)


@given(PREFIXES, st.lists(SEGMENTS, max_size=6), st.booleans())
def test_an_accepted_server_is_served_under_the_allowed_base(prefix, segments, slash):
    server = prefix + "/" + "/".join(segments) + ("/" if slash else "")
    base = allowed_base(server, ALLOWED)
    if base is None:
        return
    for query in ("Patient/p1", "Observation?patient=p1&code=x|1"):
        scheme, host, port, path = as_served(base.join(query))
        assert (scheme, host, port) == ("https", "ehr.example.org", None)
        assert path.startswith("/fhir/"), (server, path)
        assert under(base.join(query), base)


@given(st.lists(st.sampled_from(["r4", "R4", "a-b", "x~y", "%7E", "%41", "%20"]), max_size=4))
def test_equivalent_spellings_of_an_allowed_url_are_accepted_alike(segments):
    plain = "https://ehr.example.org/" + "/".join(["fhir", *segments])
    odd = "/".join(["%66hir", *(s.replace("~", "%7e") for s in segments)])
    accepted = allowed_base(plain, ALLOWED)
    assert accepted is not None
    assert allowed_base(f"HTTPS://Ehr.Example.Org:443/{odd}/", ALLOWED) == accepted


def test_the_percent_encoded_walk_reaches_no_fhir_server():
    with StandIn(lambda _: (200, {}, b"{}")) as fhir, live_service(fhir_servers=(fhir.url,)) as cds:
        body = authorized("dpyd-c1905-het-capecitabine.order-sign", fhir.url + "/%2e%2e/admin")
        del body["prefetch"]
        answer = cds.post("/cds-services/oncology-order-sign", json=body)
    assert answer.status_code == 412, answer.text
    issues = answer.json()["issue"]
    assert issues
    assert {issue["code"] for issue in issues} == {"forbidden"}
    assert fhir.seen == []


def test_a_next_link_that_walks_out_in_escapes_is_not_followed():
    base = allowed_base("https://ehr.example.org/fhir/", ALLOWED)
    assert base is not None
    assert under(base.join("Observation?patient=p1&_page=2"), base)
    for link in ("%2e%2e/admin/Observation?_page=2", "https://ehr.example.org/fhir/..%2fadmin"):
        assert not under(base.join(link), base)
