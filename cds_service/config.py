"""Settings, from the environment, with defaults that run the service on one machine.

The defaults are the safe ones for production: no FHIR server is queried (an empty allow-list),
and no browser origin is allowed (CORS off). Both are opened by listing what to trust.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class Settings:
    rules_dir: Path = _BUNDLED_RULES
    max_body_bytes: int = 5 * 1024 * 1024
    """A 50-resource prefetch is about 50 kB; 5 MiB leaves room for long records."""
    fhir_servers: tuple[str, ...] = ()
    """Base URLs whose ``fhirServer`` the service may query; empty: it queries none."""
    fhir_deadline: float = 2.0
    """Seconds all FHIR queries of one CDS call may take together, retries and pages included."""
    fhir_max_pages: int = 5
    """Pages of one searchset Bundle followed; more is answered 412, never silently cut."""
    fhir_max_bytes: int = 5 * 1024 * 1024
    """Largest FHIR server answer read, per page."""
    fhir_retries: int = 1
    """Extra tries of a GET that failed before the server could act on it (see fhirclient)."""
    cors_origins: tuple[str, ...] = ()
    """Browser origins allowed to call the service (``*`` for any); empty: CORS is off."""
    reload_seconds: float = 2.0
    """How often the rules folder is polled for changes; 0 turns hot reload off."""
    reload_timeout: float = 60.0
    """The longest a new rule set may take to check and test before it is refused."""
    today: date | None = None
    """The day ages and intervals are counted to; None: the real date in ``timezone``. Fixed
    only for tests and demonstrations, so that a fixture aged 45 or diagnosed 4 weeks ago
    stays so."""
    timezone: str = "UTC"
    """The IANA zone of the clinic: its date is "today" (at 8 pm in Chicago it is not yet
    tomorrow), and a time sent without a zone is read in it."""

    def __post_init__(self) -> None:
        _zone_name(self.timezone)

    def day(self) -> date:
        """The day of a call: ``today`` when fixed, else the real date in ``timezone``."""
        return self.today or datetime.now(self.zone()).date()

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            rules_dir=Path(env.get("CDS_RULES_DIR", str(_BUNDLED_RULES))),
            max_body_bytes=int(env.get("CDS_MAX_BODY_BYTES", cls.max_body_bytes)),
            fhir_servers=_list(env.get("CDS_FHIR_SERVERS", "")),
            fhir_deadline=float(env.get("CDS_FHIR_DEADLINE_SECONDS", cls.fhir_deadline)),
            fhir_max_pages=int(env.get("CDS_FHIR_MAX_PAGES", cls.fhir_max_pages)),
            fhir_max_bytes=int(env.get("CDS_FHIR_MAX_BYTES", cls.fhir_max_bytes)),
            fhir_retries=int(env.get("CDS_FHIR_RETRIES", cls.fhir_retries)),
            cors_origins=_list(env.get("CDS_CORS_ORIGINS", "")),
            reload_seconds=float(env.get("CDS_RULES_RELOAD_SECONDS", cls.reload_seconds)),
            reload_timeout=float(env.get("CDS_RULES_RELOAD_TIMEOUT", cls.reload_timeout)),
            today=date.fromisoformat(env["CDS_TODAY"]) if env.get("CDS_TODAY") else None,
            timezone=env.get("CDS_TIMEZONE") or cls.timezone,
        )


def _zone_name(name: str) -> str:
    """An IANA zone name the machine knows; a typo stops the service instead of reading UTC."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CDS_TIMEZONE={name!r} is not an IANA time zone (America/Chicago)"
        ) from None
    return name


def _list(value: str) -> tuple[str, ...]:
    """A comma- or space-separated setting as a tuple, blanks dropped."""
    return tuple(item for item in value.replace(",", " ").split() if item)
