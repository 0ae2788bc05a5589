"""``cds-service store purge`` and ``cds-service feedback report``: the store from a shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ..config import Settings
from . import reportformats, reporthtml, retention
from .db import connect, migrate, utcnow
from .report import build

FORMATS = {
    "table": reportformats.as_table,
    "csv": reportformats.as_csv,
    "json": reportformats.as_json,
    "html": reporthtml.as_html,
}


def add(commands: Any) -> None:
    """Register the store's commands on the CLI's subparsers."""
    store = commands.add_parser("store", help="the store of served cards and feedback")
    purge = store.add_subparsers(required=True, metavar="ACTION").add_parser(
        "purge", help="delete what is older than the retention (CDS_STORE_RETENTION_DAYS)"
    )
    purge.add_argument("--days", type=int, help="keep this many days instead of the setting")
    purge.set_defaults(run=_purge)

    feedback = commands.add_parser("feedback", help="what clinicians did with the cards")
    report = feedback.add_subparsers(required=True, metavar="ACTION").add_parser(
        "report", help="per rule: shown, accepted, overridden, override rate, reasons"
    )
    report.add_argument("--since", type=_moment, help="cards served from (date or ISO time, UTC)")
    report.add_argument("--until", type=_moment, help="cards served before (date or ISO time)")
    report.add_argument("--rule", help="one rule id")
    report.add_argument("--format", choices=sorted(FORMATS), default="table")
    report.add_argument(
        "--flag-above", type=float, default=0.8, help="flag rules overridden this often (0.8)"
    )
    report.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    report.set_defaults(run=_report)


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    days = args.days or settings.retention_days
    with _opened(settings) as engine:
        cards, items = retention.purge(engine, utcnow(), days)
    print(f"deleted {cards} served cards and {items} feedback items older than {days} days")
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    with _opened(settings) as engine:
        report = build(engine, args.since, args.until, args.rule, args.flag_above)
    text = FORMATS[args.format](report)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


@contextmanager
def _opened(settings: Settings) -> Iterator[Engine]:
    """The store's database, migrated to the version this code reads."""
    if not settings.database_url:
        raise SystemExit("error: the store is off (CDS_DATABASE_URL=off)")
    engine = connect(settings.database_url)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


def _moment(value: str) -> datetime:
    """A date (midnight UTC) or an ISO time (UTC when it names no zone)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {value!r}") from None
    if len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
