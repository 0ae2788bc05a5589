"""CDS Hooks 2.0.1 messages, with the specification's invariants enforced by the models.

Requests are read tolerantly (unknown members and ``extension`` objects are kept) but what the
service relies on is required. Responses are strict: a card that breaks an invariant cannot be
built, so it cannot be sent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .fhir import reference_of

log = logging.getLogger("cds_service")

ID_MAX = 64
"""The longest FHIR id: a longer one is a 400, never echoed into the cards."""
FHIR_ID = r"[A-Za-z0-9\-.]{1,64}"
"""A FHIR resource id (R4 ``id`` datatype)."""
USER_ID = r"^[\d\w]+/[\d\w\-.]+$"  # invariant ord-1
_SUMMARY_LIMIT = 140
_ABSOLUTE_URL = r"^https?://[^\s/]+[^\s]*$"


def id_too_long(resource: Any) -> bool:
    """Whether a resource as sent has an id longer than FHIR's 64 characters."""
    return isinstance(resource, dict) and len(str(resource.get("id") or "")) > ID_MAX


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        """The JSON members to send: optional members without a value are left out."""
        return self.model_dump(mode="json", exclude_none=True)


# --- requests -------------------------------------------------------------------------------


class FhirAuthorization(_Tolerant):
    access_token: str = Field(min_length=1, repr=False)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None

    def __repr__(self) -> str:  # the token must never reach a log
        return f"FhirAuthorization(scope={self.scope!r}, subject={self.subject!r})"

    __str__ = __repr__

    @model_validator(mode="after")
    def _patient_scope_names_patient(self) -> FhirAuthorization:  # cds-r-2
        if "patient/" in self.scope.lower() and self.patient is None:
            # The spec's prose says SHOULD: the call still runs, and the operator learns of it.
            log.warning("fhirAuthorization has patient/ scopes but no patient (cds-r-2)")
        return self


class HookRequest(_Tolerant):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @field_validator("fhirServer")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value

    @model_validator(mode="after")
    def _token_needs_server(self) -> HookRequest:  # invariant cds-r-1
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirAuthorization requires fhirServer (cds-r-1)")
        return self


class BundleEntry(_Tolerant):
    resource: dict[str, Any] | None = None
    """An entry with no resource has nothing to check (clients send such placeholders)."""

    @field_validator("resource")
    @classmethod
    def _typed(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """A draft order the service cannot type would be skipped: "no card", wrongly."""
        if value is not None and not (
            isinstance(value.get("resourceType"), str) and value["resourceType"]
        ):
            raise ValueError("a draft order needs its resourceType")
        if id_too_long(value):
            raise ValueError(f"a draft order's id is longer than FHIR's {ID_MAX} characters")
        return value


class DraftOrders(_Tolerant):
    resourceType: Literal["Bundle"]
    type: str | None = None
    entry: list[BundleEntry] = Field(default_factory=list)

    def resources(self) -> list[dict[str, Any]]:
        return [e.resource for e in self.entry if e.resource is not None]


class PatientViewContext(_Tolerant):
    userId: str = Field(pattern=USER_ID)
    patientId: str = Field(min_length=1, max_length=64)  # a FHIR id: 1 to 64 characters
    encounterId: str | None = Field(default=None, max_length=64)


class OrderSignContext(PatientViewContext):
    draftOrders: DraftOrders


class OrderSelectContext(OrderSignContext):
    selections: list[str] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _point_into_draft_orders(cls, selections: list[str], info: ValidationInfo) -> list[str]:
        drafts = info.data.get("draftOrders")
        present = {reference_of(r) for r in drafts.resources()} if drafts else set()
        for selection in selections:
            if drafts and selection not in present:
                listed = ", ".join(sorted(present)) or "none"
                raise ValueError(f"{selection} is not in draftOrders (there: {listed})")
        return selections


CONTEXTS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
}


# --- responses ------------------------------------------------------------------------------


class Coding(_Strict):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = Field(default=None, min_length=1)


class OverrideReason(Coding):
    display: str = Field(min_length=1)  # invariant cds-resp-4


class Source(_Strict):
    label: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=_ABSOLUTE_URL)
    icon: str | None = Field(default=None, pattern=_ABSOLUTE_URL)
    topic: Coding | None = None


class Action(_Strict):
    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)  # invariant cds-resp-5
    resource: dict[str, Any] | None = None
    resourceId: str | None = Field(default=None, pattern=rf"^[A-Za-z]+/{FHIR_ID}$")

    @model_validator(mode="after")
    def _target(self) -> Action:
        if self.type == "delete" and not self.resourceId:  # cds-resp-2
            raise ValueError("a delete action names its resourceId")
        if self.type != "delete" and not self.resource:
            raise ValueError(f"a {self.type} action carries the resource")
        return self


class Suggestion(_Strict):
    label: str = Field(min_length=1)
    uuid: str
    isRecommended: bool | None = None
    actions: list[Action] | None = Field(default=None, min_length=1)
    actionSelectionBehavior: Literal["all", "any", "at-most-one"] | None = None  # cds-resp-7


class Link(_Strict):
    label: str = Field(min_length=1)
    url: str = Field(pattern=_ABSOLUTE_URL)
    type: Literal["absolute", "smart"]
    appContext: str | None = Field(default=None, min_length=1)
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _app_context_only_for_smart(self) -> Link:  # cds-resp-3
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only for smart links")
        return self


class Card(_Strict):
    uuid: str
    summary: str = Field(min_length=1, max_length=_SUMMARY_LIMIT - 1)
    detail: str | None = Field(default=None, min_length=1)
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = Field(default=None, min_length=1)
    links: list[Link] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _suggestion_invariants(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:  # cds-resp-6
            raise ValueError("a card with suggestions states its selectionBehavior")
        recommended = sum(bool(s.isRecommended) for s in self.suggestions or ())
        if self.selectionBehavior == "at-most-one" and recommended > 1:  # cds-resp-1
            raise ValueError("at-most-one allows at most one recommended suggestion")
        return self


class CdsResponse(_Strict):
    cards: list[Card]


class ServiceDefinition(_Strict):
    hook: str = Field(min_length=1)
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    prefetch: dict[str, str] | None = Field(default=None, min_length=1)
    usageRequirements: str | None = Field(default=None, min_length=1)
    version: str | None = Field(default=None, pattern=r"^\d+\.\d+\.\d+$")  # 3.0: spec semver


# --- feedback -------------------------------------------------------------------------------


class AcceptedSuggestion(_Tolerant):
    id: str = Field(min_length=1)


class FeedbackOverrideReason(_Tolerant):
    reason: Coding | None = None
    userComment: str | None = None

    @model_validator(mode="after")
    def _reason_or_comment(self) -> FeedbackOverrideReason:  # cds-fb-3
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs a reason or a userComment (cds-fb-3)")
        return self


class FeedbackItem(_Tolerant):
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]  # cds-fb-1
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: FeedbackOverrideReason | None = None
    outcomeTimestamp: datetime

    @field_validator("outcomeTimestamp")
    @classmethod
    def _with_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time-zone offset (RFC 3339)")
        return value

    @model_validator(mode="after")
    def _accepted_names_suggestions(self) -> FeedbackItem:  # cds-fb-2
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome lists acceptedSuggestions (cds-fb-2)")
        return self


class FeedbackRequest(_Tolerant):
    feedback: list[FeedbackItem] = Field(min_length=1)
