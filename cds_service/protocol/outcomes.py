"""Client errors answered as FHIR OperationOutcomes that name the field at fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..observability.calls import request_id

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Issue:
    code: str
    """FHIR issue type: invalid, required, not-found, too-costly, incomplete, exception..."""
    message: str
    expression: str | None = None


class ClientError(Exception):
    """A request the service cannot answer: ``status`` with an OperationOutcome body."""

    def __init__(self, status: int, *issues: Issue):
        self.status, self.issues = status, issues
        super().__init__("; ".join(issue.message for issue in issues))

    @classmethod
    def of(cls, status: int, code: str, message: str, expression: str | None = None) -> ClientError:
        return cls(status, Issue(code, message, expression))

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(*self.issues)


def operation_outcome(*issues: Issue) -> dict[str, Any]:
    items = []
    for issue in issues:
        item: dict[str, Any] = {
            "severity": "error",
            "code": issue.code,
            "diagnostics": issue.message,
        }
        if issue.expression:
            item["expression"] = [issue.expression]
        items.append(item)
    outcome: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": items}
    if (reference := request_id()) is not None:  # the X-Request-ID an operator greps the log for
        outcome["id"] = reference
    return outcome


_MAX_ISSUES = 20
"""Issues listed in one 400; more are counted, so a client knows the list is not complete."""


def validated(model: type[M], value: Any, prefix: str = "") -> M:
    """``value`` as ``model``, or a 400 naming every member at fault (under ``prefix``)."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise invalid(error, prefix) from None


def invalid(error: ValidationError, prefix: str = "") -> ClientError:
    """A 400 listing invalid members by FHIRPath-style path, such as ``context.draftOrders``."""
    errors = error.errors()
    issues = []
    for item in errors[:_MAX_ISSUES]:
        path = _path([prefix, *item["loc"]] if prefix else list(item["loc"]))
        code = "required" if item["type"] == "missing" else "invalid"
        message = item["msg"].removeprefix("Value error, ")
        issues.append(Issue(code, f"{path or 'body'}: {message}", path or None))
    if len(errors) > _MAX_ISSUES:
        issues.append(Issue("invalid", f"and {len(errors) - _MAX_ISSUES} more problems"))
    return ClientError(400, *issues)


def _path(parts: list[Any]) -> str:
    """``["context", "entry", 0, "resource"]`` as ``context.entry[0].resource``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
