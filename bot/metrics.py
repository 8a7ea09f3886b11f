"""Prometheus metrics of one app instance (its own registry: no global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    """The figures `/metrics` exposes."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        self.inbound = Counter(
            "vecinos_inbound_messages", "Messages received", ["channel"], registry=registry
        )
        self.duplicates = Counter(
            "vecinos_inbound_duplicates", "Platform retries ignored", ["channel"], registry=registry
        )
        self.emergencies = Counter("vecinos_emergencies", "Emergencies detected", ["kind"], registry=registry)
        self.handling_errors = Counter(
            "vecinos_handling_errors", "Messages whose handling failed", registry=registry
        )
        self.outbox_sent = Counter("vecinos_outbox_sent", "Messages sent", ["channel"], registry=registry)
        self.outbox_failed = Counter(
            "vecinos_outbox_failed", "Messages given up", ["channel"], registry=registry
        )
        self.background_up = Gauge(
            "vecinos_background_up",
            "1 while a background loop runs, 0 while it waits to restart",
            ["task"],
            registry=registry,
        )
        self.background_restarts = Counter(
            "vecinos_background_restarts",
            "Background loops that stopped and were restarted",
            ["task"],
            registry=registry,
        )
        self.inbound_seconds = Histogram(
            "vecinos_inbound_seconds", "Time to store, understand and queue a reply", registry=registry
        )
