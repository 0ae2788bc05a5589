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
    max_response_bytes: int = 1024 * 1024
    """Cards beyond it are left out, most severe kept, with a card that says so (cards/bounded)."""
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
    auth: str = "required"
    """``required``: every CDS call carries a client JWT checked against the trust file;
    ``off``: every caller is trusted (a local demonstration only, logged and shown by /health)."""
    trust_file: Path | None = None
    """The YAML file of trusted CDS clients: issuer, JWKS URLs or file, algorithms."""
    public_base_url: str = ""
    """The URL clients call the service at: a JWT's ``aud`` must be it plus the path called."""
    redis_url: str = ""
    """Redis shared by all workers for the seen ``jti``; empty: one process's memory."""
    redis_prefix: str = "cds-hooks:jti:"
    """The start of every key the service writes to Redis."""
    clock_skew: float = 60.0
    """Seconds of clock difference allowed on a JWT's ``exp``, ``iat`` and ``nbf``."""
    jwks_lifetime: float = 600.0
    """Seconds a JWKS fetched from a ``jku`` is kept before it is fetched again."""
    log_format: str = "text"
    """``text`` (readable, the default) or ``json`` (one object a line, for a log pipeline)."""
    engine_processes: int = 1
    """Engine processes that run durable-rules, one call in flight each, so that a crash in its
    C code costs one call (503), not the server; 0 runs the engine in the server's process."""
    engine_timeout: float = 5.0
    """Seconds an engine process may take for one call (or to start) before it is replaced."""
    today: date | None = None
    """The day ages and intervals are counted to; None: the real date in ``timezone``. Fixed
    only for tests and demonstrations, so that a fixture aged 45 or diagnosed 4 weeks ago
    stays so."""
    timezone: str = "UTC"
    """The IANA zone of the clinic: its date is "today" (at 8 pm in Chicago it is not yet
    tomorrow), and a time sent without a zone is read in it."""
    data_dir: Path = Path("data")
    """Where the embedded store (SQLite) and its patient-hash key live; ``./dev serve`` makes it."""
    database_url: str = ""
    """The store of served cards and feedback (SQLAlchemy URL); empty: no store. From the
    environment it defaults to SQLite in ``data_dir``; ``CDS_DATABASE_URL=off`` turns it off."""
    patient_hash_key: str = ""
    """The HMAC secret patients are stored under; empty: a random key kept in ``data_dir``."""
    retention_days: int = 730
    """Served cards and feedback older than this are removed by ``cds-service store purge``."""
    store_queue: int = 10_000
    """Calls whose cards may wait to be written; beyond it they are counted lost, not waited on."""

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
        data_dir = Path(env.get("CDS_DATA_DIR", str(cls.data_dir)))
        return cls(
            rules_dir=Path(env.get("CDS_RULES_DIR", str(_BUNDLED_RULES))),
            max_body_bytes=int(env.get("CDS_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_response_bytes=int(env.get("CDS_MAX_RESPONSE_BYTES", cls.max_response_bytes)),
            fhir_servers=_list(env.get("CDS_FHIR_SERVERS", "")),
            fhir_deadline=float(env.get("CDS_FHIR_DEADLINE_SECONDS", cls.fhir_deadline)),
            fhir_max_pages=int(env.get("CDS_FHIR_MAX_PAGES", cls.fhir_max_pages)),
            fhir_max_bytes=int(env.get("CDS_FHIR_MAX_BYTES", cls.fhir_max_bytes)),
            fhir_retries=int(env.get("CDS_FHIR_RETRIES", cls.fhir_retries)),
            cors_origins=_list(env.get("CDS_CORS_ORIGINS", "")),
            reload_seconds=float(env.get("CDS_RULES_RELOAD_SECONDS", cls.reload_seconds)),
            reload_timeout=float(env.get("CDS_RULES_RELOAD_TIMEOUT", cls.reload_timeout)),
            auth=env.get("CDS_AUTH", cls.auth),
            trust_file=Path(env["CDS_TRUST_FILE"]) if env.get("CDS_TRUST_FILE") else None,
            public_base_url=env.get("CDS_PUBLIC_BASE_URL", ""),
            redis_url=env.get("CDS_REDIS_URL", ""),
            redis_prefix=env.get("CDS_REDIS_PREFIX", cls.redis_prefix),
            clock_skew=float(env.get("CDS_AUTH_CLOCK_SKEW", cls.clock_skew)),
            jwks_lifetime=float(env.get("CDS_JWKS_LIFETIME", cls.jwks_lifetime)),
            log_format=env.get("CDS_LOG_FORMAT", cls.log_format),
            engine_processes=int(env.get("CDS_ENGINE_PROCESSES", cls.engine_processes)),
            engine_timeout=float(env.get("CDS_ENGINE_TIMEOUT_SECONDS", cls.engine_timeout)),
            today=date.fromisoformat(env["CDS_TODAY"]) if env.get("CDS_TODAY") else None,
            data_dir=data_dir,
            database_url=_database_url(env.get("CDS_DATABASE_URL", ""), data_dir),
            patient_hash_key=env.get("CDS_PATIENT_HASH_KEY", ""),
            retention_days=int(env.get("CDS_STORE_RETENTION_DAYS", cls.retention_days)),
            store_queue=int(env.get("CDS_STORE_QUEUE", cls.store_queue)),
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


def _database_url(value: str, data_dir: Path) -> str:
    """``CDS_DATABASE_URL`` as given, "" for ``off``, SQLite in the data folder when unset."""
    if value.strip().lower() == "off":
        return ""
    return value or f"sqlite:///{data_dir / 'cds-store.sqlite3'}"
