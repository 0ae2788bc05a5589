"""Log output: readable text by default, one JSON object a line with ``CDS_LOG_FORMAT=json``.

The service's loggers (``cds_service.*``) and uvicorn's go through one handler on stderr, so
the service's own lines (feedback received, FHIR fallback timings, reloads) show under
``./dev serve`` beside uvicorn's. A call's fields (see :mod:`.calls`) are written as
``key=value`` pairs in text and as members in JSON; any other line written during a call
carries the call's request id.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from .calls import request_id

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
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


class TextFormatter(logging.Formatter):
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
    """Route the service's and uvicorn's loggers to one handler in ``form`` at ``level``."""
    shared = handler(form)
    for name in ("cds_service", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = [shared] if name in ("cds_service", "uvicorn") else []
        logger.propagate = name not in ("cds_service", "uvicorn")
    logging.getLogger("cds_service").setLevel(level.upper())
    logging.getLogger("uvicorn").setLevel(level.upper())
