"""One CDS Hooks call, end to end: request -> prefetch -> facts -> engine -> cards -> response.

:func:`answer` serves the HTTP handler and queries the FHIR server for what prefetch left open;
:func:`call` runs the same steps without FHIR access, for the command line and the benchmarks.
A key that stays without data blocks only the rules that read it (``ruleset/sources.py``), named
on one card (``ruleset/notrun.py``); the call is a 412 only when no rule that reads the record
can run. A fault of the service's own is said on a card too, not a 500: an EHR shows a failed
call as no cards at all, which a clinician reads as an all-clear. A reader's fault loses only the
checks of what it, and any reader that used its output, reads (``facts/steps.py``); any other
loses every check.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from . import facts
from .cards.ids import PROCESS_IDS, CardIds
from .cards.render import Firing, applied, distinct, render
from .config import Settings
from .engine.admission import admit
from .engine.durable import MAX_FACTS, EngineBusy
from .engine.supervisor import EngineUnavailable
from .observability.calls import fired, request_id, stage
from .prefetch import fhirclient, keys
from .prefetch.record import PatientRecord
from .protocol.messages import (
    CONTEXTS,
    Card,
    CdsResponse,
    HookRequest,
    PatientViewContext,
    ServiceDefinition,
)
from .protocol.outcomes import ClientError, Issue, validated
from .ruleset import notrun
from .ruleset.compiled import RuleSet, Service
from .store import repeats
from .store.db import utcnow

log = logging.getLogger(__name__)
_UTC = ZoneInfo("UTC")
SPEC_VERSION = "2.0.1"
"""The CDS Hooks version the service implements, announced in discovery (3.0's ``version``)."""


def parse_request(body: Any) -> HookRequest:
    if not isinstance(body, dict):
        raise ClientError.of(400, "invalid", "the body must be a JSON object")
    return validated(HookRequest, body)


def read_context(service: Service, request: HookRequest) -> PatientViewContext:
    if request.hook != service.hook:
        raise ClientError.of(
            400,
            "invalid",
            f"hook '{request.hook}' does not match service '{service.id}', "
            f"which serves '{service.hook}'",
            "hook",
        )
    return validated(CONTEXTS[service.hook], request.context, "context")


def decide(
    service: Service,
    context: PatientViewContext,
    planned: keys.Plan,
    fetched: Mapping[str, list[Mapping[str, Any]]],
    failed: Mapping[str, Issue],
    rule_set: RuleSet,
    today: date,
    zone: ZoneInfo,
    overrides: repeats.Overrides | None = None,
    ids: CardIds = PROCESS_IDS,
) -> CdsResponse:
    """The cards, their uuids made by ``ids``; the rules reading a key that stayed unanswered
    are named on one card; with ``overrides``, each rule's repeat after an override."""
    missing = keys.unanswered(planned, fetched, failed)
    rules = rule_set.of_hook(service.hook)
    blocked = {rule.id for rule in rules if rule.needs & missing.keys()} if missing else set()
    if missing and all(rule.id in blocked for rule in rules if rule.needs):
        raise keys.PrefetchUnavailable(*missing.values())  # no check on the record can run
    with stage("record"):
        reading = keys.Reading(context, planned, fetched, zone)
    why = {key: issue.message for key, issue in missing.items()}
    try:
        cards = rule_set.remembered.cards(
            reading.content,
            today,
            service.hook,
            why,
            ids.fingerprint,
            lambda: check(service.hook, reading, rule_set, today, why, blocked, ids),
        )
    except CheckFailed as failure:
        cards = failure.cards
    if overrides is not None:
        cards = repeats.apply(cards, rule_set, overrides, utcnow())
    fired([(c.source.topic.code if c.source.topic else "-", c.indicator) for c in cards])
    return CdsResponse(cards=cards)


class CheckFailed(Exception):
    """The service failed checking a record: the card saying so is the answer, and it is never
    remembered (the next call may succeed), so it passes the cache as an exception."""

    def __init__(self, cards: list[Card]):
        super().__init__("the service failed checking the record")
        self.cards = cards


_ANSWERED = (ClientError, EngineBusy, EngineUnavailable)
"""What the app answers itself: the client's mistakes, and an engine busy or restarting (503)."""


def check(
    hook: str,
    reading: keys.Reading,
    rule_set: RuleSet,
    today: date,
    why: Mapping[str, str],
    blocked: set[str],
    ids: CardIds,
) -> list[Card]:
    """The cards of ``hook``'s rules on the record read; the rules in ``blocked`` do not run,
    and the keys in ``why`` are named on the card of checks that could not run.

    Should a reader of the record fail, the rules testing what it reads do not run, and a card
    names them; should the service fail on the record in any other way, that card says no check
    was completed. Either answer passes the cache (:class:`CheckFailed`), and the service log
    has the error under the reference the card gives.
    """
    rules = rule_set.of_hook(hook)
    try:
        with stage("facts"):
            record = reading.record()
            try:
                found = rule_set.remembered.facts(
                    record, today, lambda: admit(facts.extract(record, rule_set.knowledge, today))
                )
                partly = None
            except facts.PartlyRead as read:
                found, partly = admit(read.found), read
            found += notrun.not_run(rules, why, found, record)
        if partly is None:
            return _cards(hook, record, rule_set, found, blocked, ids)
        reference = _logged(*partly.errors)
        lost = {rule.id for rule in rules if notrun.testing(rule, partly.kinds)}
        said = notrun.failed(rules, reference, reading.orders, partly.kinds)
        found += [said] if said else []
        cards = _cards(hook, record, rule_set, found, blocked | lost, ids)
    except _ANSWERED:
        raise
    except (Exception, facts.LostInput) as error:  # the service's own fault: see the module's doc
        reference = _logged(("check", error))
        said = notrun.failed(rules, reference, reading.orders)
        unchecked = {rule.id for rule in rules if notrun.of_the_record(rule)}  # none is known
        empty = PatientRecord(reading.patient_id)
        cards = _cards(hook, empty, rule_set, [said] if said else [], unchecked, ids)
    raise CheckFailed(cards)


def _logged(*errors: tuple[str, BaseException]) -> str:
    """The reference of the call, each error logged under it (its frames and type, never its
    message: ``observability/logformat.py``)."""
    reference = request_id() or uuid.uuid4().hex[:12]
    for step, error in errors:
        log.error("checking the record failed %s in %s", reference, step, exc_info=error)
    return reference


def _cards(
    hook: str,
    record: PatientRecord,
    rule_set: RuleSet,
    found: list[facts.Fact],
    blocked: set[str],
    ids: CardIds,
) -> list[Card]:
    """The cards of the rules not in ``blocked`` that ``found`` fires: the engine, then each
    card rendered."""
    if len(found) > MAX_FACTS:  # a record this large is a client's to split, not a 500
        message = f"the record gives {len(found)} facts; the service checks at most {MAX_FACTS}"
        raise ClientError.of(413, "too-costly", message, "prefetch")
    notes = [fact for fact in found if isinstance(fact, facts.Unreadable)]
    with stage("engine"):
        firings = [
            Firing(rule, {alias: found[index] for alias, index in match.facts.items()})
            for rule, match in rule_set.evaluate(hook, found)
            if rule.id not in blocked and not (rule.file.forward_looking and _deceased(found))
        ]
    with stage("cards"):
        rendered = [render(f, record, rule_set, notes, ids) for f in firings]
        return distinct(card for card in rendered if not applied(card, record))


def _deceased(found: list[facts.Fact]) -> bool:
    return any(isinstance(f, facts.PatientFact) and f.deceased for f in found)


async def answer(
    service: Service,
    request: HookRequest,
    rule_set: RuleSet,
    today: date,
    client: httpx.AsyncClient | None,
    settings: Settings,
    overrides: repeats.Overrides | None = None,
    ids: CardIds = PROCESS_IDS,
) -> CdsResponse:
    """A call over HTTP: what prefetch left open is fetched from the client's FHIR server."""
    context = read_context(service, request)
    with stage("prefetch_plan"):
        planned = keys.plan(request.prefetch, context, service.keys, today)
    fetched: Mapping[str, list[Mapping[str, Any]]] = {}
    failed: Mapping[str, Issue] = {}
    if planned.queries:
        with stage("fhir_fallback"):
            fetched, failed = await fhirclient.fetch(planned.queries, request, client, settings)
    zone = settings.zone()
    return decide(service, context, planned, fetched, failed, rule_set, today, zone, overrides, ids)


def call(
    service: Service,
    request: HookRequest,
    rule_set: RuleSet,
    today: date,
    zone: ZoneInfo = _UTC,
) -> CdsResponse:
    """A call answered from the request alone: the checks needing a key not sent do not run."""
    context = read_context(service, request)
    planned = keys.plan(request.prefetch, context, service.keys, today)
    return decide(service, context, planned, {}, {}, rule_set, today, zone)


def discovery(rule_set: RuleSet) -> dict[str, Any]:
    definitions = [
        ServiceDefinition(
            hook=s.hook,
            id=s.id,
            title=s.title,
            description=s.description,
            prefetch=dict(s.prefetch) or None,
            version=SPEC_VERSION,
        ).wire()
        for s in rule_set.services.values()
    ]
    return {"services": definitions}
