"""The store's tables and how a database is opened: SQLAlchemy Core, Alembic migrations.

Times are kept in UTC. SQLite keeps no time zone, so :class:`UtcDateTime` stores naive UTC and
gives back aware UTC on every backend: a comparison never mixes the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.types import DateTime, TypeDecorator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT = 3
"""Seconds to wait for PostgreSQL before a write counts as failed (a call never waits on it)."""
POSTGRES_OPTIONS = {
    "connect_timeout": CONNECT_TIMEOUT,
    "options": "-c statement_timeout=5000",  # a locked table fails a write, never hangs it
    "keepalives": 1,  # a server gone without a word is noticed within about 25 s
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, aware UTC out, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
metadata = MetaData()

served_card = Table(
    "served_card",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("card_uuid", String(64), nullable=False),
    Column("service", String(128), nullable=False),
    Column("hook", String(32), nullable=False),
    Column("rule_id", String(128), nullable=False),
    Column("rule_set_version", String(64), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("suggestion_uuids", Text, nullable=False, default=""),
    Column("suggestion_labels", Text),  # a JSON list, in the order of suggestion_uuids
    Column("patient_hash", String(64), nullable=False),
    Column("encounter_hash", String(64)),
    Column("hook_instance", String(128), nullable=False),
    Column("served_at", UtcDateTime, nullable=False),
    Index("ix_served_card_uuid", "card_uuid"),
    Index("ix_served_card_rule_time", "rule_id", "served_at"),
    Index("ix_served_card_time", "served_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("card_uuid", String(64), nullable=False),
    Column("service", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", Text, nullable=False, default=""),
    Column("override_system", Text),
    Column("override_code", String(128)),
    Column("override_display", Text),
    Column("user_comment", Text),
    Column("outcome_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("event", String(64), nullable=False),  # see feedback.event_digest
    Index("ix_feedback_card_outcome", "card_uuid", "outcome"),
    Index("ix_feedback_received", "received_at"),
    Index("ux_feedback_event", "event", unique=True),
)


def connect(url: str) -> Engine:
    """An engine for ``url``: ``postgresql://`` goes through psycopg 3, SQLite in WAL mode."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, connect_args=POSTGRES_OPTIONS)


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """WAL lets the report read while the recorder writes; NORMAL sync is safe under WAL."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (Alembic): from empty or from any earlier version."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def utcnow() -> datetime:
    return datetime.now(UTC)
