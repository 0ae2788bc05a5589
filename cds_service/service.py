"""One CDS Hooks call, end to end: request -> prefetch -> facts -> engine -> cards -> response."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from . import cards, facts, prefetch
from .errors import ClientError, invalid
from .models import CONTEXTS, CdsResponse, HookRequest, ServiceDefinition
from .rulesets import RuleSet, Service


def parse_request(body: Any) -> HookRequest:
    if not isinstance(body, dict):
        raise ClientError.of(400, "invalid", "the body must be a JSON object")
    try:
        return HookRequest.model_validate(body)
    except ValidationError as error:
        raise invalid(error) from None


def call(service: Service, request: HookRequest, rule_set: RuleSet, today: date) -> CdsResponse:
    if request.hook != service.hook:
        raise ClientError.of(
            400,
            "invalid",
            f"hook '{request.hook}' does not match service '{service.id}', "
            f"which serves '{service.hook}'",
            "hook",
        )
    try:
        context = CONTEXTS[service.hook].model_validate(request.context)
    except ValidationError as error:
        raise invalid(error, "context") from None
    try:
        record = prefetch.gather(request, context, service)
    except prefetch.PrefetchUnavailable as error:
        raise ClientError.of(412, "incomplete", str(error), f"prefetch.{error.key}") from None
    found = facts.extract(record, rule_set.knowledge, today)
    notes = [fact for fact in found if isinstance(fact, facts.Unreadable)]
    firings = [
        cards.Firing(rule, {alias: found[index] for alias, index in match.facts.items()})
        for rule, match in rule_set.evaluate(service.hook, found)
    ]
    rendered = [cards.render(f, record, rule_set, notes) for f in firings]
    return CdsResponse(cards=[card for card in rendered if not cards.applied(card, record)])


def discovery(rule_set: RuleSet) -> dict[str, Any]:
    definitions = [
        ServiceDefinition(
            hook=s.hook,
            id=s.id,
            title=s.title,
            description=s.description,
            prefetch=dict(s.prefetch) or None,
        ).wire()
        for s in rule_set.services.values()
    ]
    return {"services": definitions}
