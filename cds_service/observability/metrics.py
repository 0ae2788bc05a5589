"""Prometheus metrics: what the service does, with no patient or user identifier in any label.

Every label takes its values from a closed set (a service id, a rule id, an HTTP status, an
outcome word), so the series stay few whatever the calls carry. With several worker processes
prometheus-client's multiprocess mode is used: the supervisor gives the workers one fresh
folder in ``PROMETHEUS_MULTIPROC_DIR`` before they start, and a scrape of any worker sums them.
``/metrics`` is for the monitoring network only: expose it there, not to EHR clients.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

STAGES = ("prefetch_plan", "fhir_fallback", "record", "facts", "engine", "cards")
"""The steps of one call whose time is measured, in the order they run."""

CALLS = Counter(
    "cds_calls_total",
    "HTTP requests answered, by endpoint, CDS service and status",
    ["endpoint", "service", "status"],
)
STAGE_SECONDS = Histogram(
    "cds_stage_seconds",
    "Time spent in each stage of a CDS call",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CALL_SECONDS = Histogram(
    "cds_call_seconds",
    "Time from request to response of a CDS call, by service",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CARDS = Counter("cds_cards_total", "Cards returned, by rule and indicator", ["rule", "indicator"])
FALLBACK_QUERIES = Counter(
    "cds_fhir_fallback_queries_total",
    "FHIR queries made for prefetch the client left open, by outcome",
    ["outcome"],
)
TOKEN_REJECTIONS = Counter(
    "cds_token_rejections_total", "Client JWTs refused, by reason", ["reason"]
)
FEEDBACK = Counter("cds_feedback_total", "Feedback items received, by outcome", ["outcome"])
RULESET = Gauge(
    "cds_ruleset_info",
    "1 for the rule-set version being served",
    ["version"],
    multiprocess_mode="livemax",
)
RELOADS = Counter("cds_ruleset_reloads_total", "Hot-reload attempts, by outcome", ["outcome"])
LAST_RELOAD = Gauge(
    "cds_ruleset_last_reload_info",
    "1 for the outcome of the last hot-reload attempt",
    ["outcome"],
    multiprocess_mode="livemax",
)
RELOAD_OUTCOMES = ("loaded", "rejected", "timed-out", "failed", "superseded")


def observe_stage(stage: str, seconds: float) -> None:
    STAGE_SECONDS.labels(stage).observe(seconds)


def count_card(rule: str, indicator: str) -> None:
    CARDS.labels(rule, indicator).inc()


def count_fallback(outcome: str, queries: int = 1) -> None:
    """``outcome``: ``ok`` or the OperationOutcome code of the failure (timeout, forbidden...)."""
    FALLBACK_QUERIES.labels(outcome).inc(queries)


def count_token_rejection(reason: str) -> None:
    """For the JWT check: ``reason`` is a fixed word (expired, bad-signature, replay...),
    never the token, its ``iss`` or ``sub``."""
    TOKEN_REJECTIONS.labels(reason).inc()


def count_feedback(outcome: str) -> None:
    FEEDBACK.labels(outcome).inc()


def serving(version: str, previous: str | None = None) -> None:
    """The rule set ``version`` is live (and ``previous``, if any, no longer is)."""
    if previous is not None and previous != version:
        RULESET.labels(previous).set(0)
    RULESET.labels(version).set(1)


def reloaded(outcome: str) -> None:
    RELOADS.labels(outcome).inc()
    for each in RELOAD_OUTCOMES:
        LAST_RELOAD.labels(each).set(1 if each == outcome else 0)


def exposition() -> tuple[bytes, str]:
    """The text a Prometheus scrape reads, summed over all workers in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
