"""A CDS Hooks request built from a patient Bundle, for trying the rules on a record.

The prefetch is answered from the Bundle the way the EHR's server would answer the service's
templates: reads by id, and searches by resource type, patient and the ``code``, ``status`` and
``clinical-status`` tokens.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from ..knowledge.tables import Knowledge
from ..ruleset.compiled import Service

_TOKEN = re.compile(r"\{\{\s*context\.patientId\s*\}\}")


def request_from_bundle(
    bundle: Mapping[str, Any], service: Service, orders: Sequence[str], knowledge: Knowledge
) -> dict[str, Any]:
    resources = resolved(bundle)
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    if patient is None or not patient.get("id"):
        raise ValueError("the Bundle holds no Patient with an id")
    patient_id = patient["id"]
    context: dict[str, Any] = {"userId": "Practitioner/cli", "patientId": patient_id}
    if service.hook != "patient-view":
        drafts = [_draft_order(order, patient_id, n, knowledge) for n, order in enumerate(orders)]
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
        if service.hook == "order-select":
            context["selections"] = [f"MedicationRequest/{d['id']}" for d in drafts]
    return {
        "hook": service.hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": answer_prefetch(resources, service, patient_id),
    }


def resolved(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Bundle's resources, each reference to an entry's ``fullUrl`` made ``Type/id``.

    Transaction Bundles (Synthea, EHR exports) refer to their entries by ``urn:uuid:`` fullUrls,
    which a FHIR server turns into ``Type/id`` when it stores them; the service reads what the
    server would answer. An entry with a ``urn:uuid:`` fullUrl and no id takes the uuid as id.
    """
    resources: list[dict[str, Any]] = []
    local: dict[str, str] = {}
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        resource, full_url = entry["resource"], entry.get("fullUrl")
        if isinstance(full_url, str) and full_url.startswith(_UUID) and not resource.get("id"):
            resource = {**resource, "id": full_url.removeprefix(_UUID)}
        if isinstance(full_url, str) and resource.get("id") and resource.get("resourceType"):
            local[full_url] = f"{resource['resourceType']}/{resource['id']}"
        resources.append(resource)
    return [_references_made_local(r, local) for r in resources] if local else resources


_UUID = "urn:uuid:"


def _references_made_local(value: Any, local: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: local.get(v, v)
            if k == "reference" and isinstance(v, str)
            else _references_made_local(v, local)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_references_made_local(item, local) for item in value]
    return value


def answer_prefetch(
    resources: Sequence[Mapping[str, Any]], service: Service, patient_id: str
) -> dict[str, Any]:
    """Each of the service's prefetch templates answered from one patient's resources."""
    return {
        key: _answer(_TOKEN.sub(patient_id, template), resources)
        for key, template in service.prefetch.items()
    }


def _draft_order(order: str, patient_id: str, number: int, knowledge: Knowledge) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": order}
    if order.isdigit():
        name = knowledge.drugs.by_rxnorm(order)
        if name is None:
            raise ValueError(f"--order {order}: no drug of the rules has RxNorm code {order}")
        coding = {"system": knowledge.genomics.systems["rxnorm"], "code": order}
        concept = {"coding": [coding | {"display": name}], "text": name}
    elif knowledge.drugs.by_name(order) is None:
        # An order no rule can recognise would come back as "0 cards", read as an all-clear.
        known = sorted(knowledge.drugs.ingredients)
        close = difflib.get_close_matches(order.lower(), known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"--order {order!r} is no drug the rules know{hint}")
    return {
        "resourceType": "MedicationRequest",
        "id": f"cli-draft-{number + 1}",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": concept,
    }


def _answer(query: str, resources: Sequence[Mapping[str, Any]]) -> Any:
    kind, _, rest = query.partition("?")
    if not rest and "/" in kind:
        wanted_type, wanted_id = kind.split("/", 1)
        return next(
            (
                r
                for r in resources
                if r.get("resourceType") == wanted_type and r.get("id") == wanted_id
            ),
            None,
        )
    matches = [r for r in resources if r.get("resourceType") == kind]
    for name, value in parse_qsl(rest):
        if name == "code":
            tokens = {tuple(t.split("|", 1)) if "|" in t else ("", t) for t in value.split(",")}
            matches = [r for r in matches if _has_token(r.get("code"), tokens)]
        elif name == "status":
            matches = [r for r in matches if r.get("status") in value.split(",")]
        elif name == "clinical-status":
            tokens = {("", t) for t in value.split(",")}
            matches = [r for r in matches if _has_token(r.get("clinicalStatus"), tokens)]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(matches)}
    if matches:
        bundle["entry"] = [{"resource": r, "search": {"mode": "match"}} for r in matches]
    return bundle


def _has_token(concept: Any, tokens: set[tuple[str, ...]]) -> bool:
    for coding in (concept or {}).get("coding") or []:
        system, code = coding.get("system", ""), coding.get("code")
        if (system, code) in tokens or ("", code) in tokens:
            return True
    return False
