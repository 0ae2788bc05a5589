"""Log output: readable text by default, one JSON object a line with ``CDS_LOG_FORMAT=json``.

The service's loggers (``cds_service.*``) and uvicorn's go through one handler on stderr, so
the service's own lines (feedback received, FHIR fallback timings, reloads) show under
``./dev serve`` beside uvicorn's. A call's fields (see :mod:`.calls`) are written as
``key=value`` pairs in text and as members in JSON; any other line written during a call
carries the call's request id.

An exception is written as its type and the frames it passed through (file, line, function),
its causes and contexts the same way, and never its message: a ``KeyError`` quotes the missing
key, a pydantic error the values it refused, an httpx error its URL, any of which can be a
patient's name or id from the request.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

from .calls import request_id

FORMATS = ("text", "json")
CAUSE = "The above exception was the direct cause of the following exception:"
CONTEXT = "During handling of the above exception, another exception occurred:"
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class _Formatter(logging.Formatter):
    def formatException(self, ei: ExcInfo) -> str:
        return redacted(ei[1]) if ei[1] is not None else ""


def redacted(error: BaseException) -> str:
    """A traceback of ``error`` and the exceptions it came from, without a message or value."""
    return "\n".join(_chain(error, "", set()))


def _chain(error: BaseException, indent: str, seen: set[int]) -> list[str]:
    """Oldest first, as Python prints it; each exception once (a chain can loop)."""
    seen.add(id(error))
    lines: list[str] = []
    cause, context = error.__cause__, error.__context__
    if cause is not None and id(cause) not in seen:
        lines += [*_chain(cause, indent, seen), "", indent + CAUSE, ""]
    elif context is not None and not error.__suppress_context__ and id(context) not in seen:
        lines += [*_chain(context, indent, seen), "", indent + CONTEXT, ""]
    if error.__traceback__ is not None:
        lines.append(indent + "Traceback (most recent call last):")
        lines += [
            f'{indent}  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
            for frame in traceback.extract_tb(error.__traceback__)
        ]
    lines.append(indent + _type_name(type(error)))
    if isinstance(error, BaseExceptionGroup):  # each member as Python shows it, indented
        for number, member in enumerate(error.exceptions, 1):
            lines.append(f"{indent}+---------------- {number} ----------------")
            lines += _chain(member, indent + "| ", seen)
    return lines


def _type_name(kind: type[BaseException]) -> str:
    module, name = kind.__module__, kind.__qualname__
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


class JsonFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "call", None) or {"request_id": request_id()})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        call = getattr(record, "call", None)
        if call:
            message = " ".join(_pair(k, v) for k, v in call.items())
        else:
            given = request_id()
            message = record.getMessage() + (f" request_id={given}" if given else "")
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _pair(key: str, value: Any) -> str:
    if isinstance(value, dict):
        value = ",".join(f"{k}:{v}" for k, v in value.items()) or "-"
    elif isinstance(value, list):
        value = ",".join(map(str, value)) or "-"
    return f"{key}={'-' if value is None else value}"


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def handler(form: str, stream: TextIO | None = None) -> logging.Handler:
    if form not in FORMATS:
        raise ValueError(f"CDS_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {form!r}")
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    return out


def configure(form: str, level: str) -> None:
    """Route the service's and uvicorn's loggers to one handler in ``form`` at ``level``.

    Any other library's warnings and errors (asyncio's "Task exception was never retrieved",
    httpx, anyio) go through the same handler from the root logger, rather than Python's
    last-resort handler, which would write an exception's message.
    """
    shared = handler(form)
    logging.getLogger().handlers = [shared]
    for name in ("cds_service", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = [shared] if name in ("cds_service", "uvicorn") else []
        logger.propagate = name not in ("cds_service", "uvicorn")
    logging.getLogger("cds_service").setLevel(level.upper())
    logging.getLogger("uvicorn").setLevel(level.upper())
