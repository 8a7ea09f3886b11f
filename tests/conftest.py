"""Fixtures shared by the whole suite."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from routing.understand import DEFAULT_DATA_DIR, Understander

SANTIAGO = ZoneInfo("America/Santiago")


@pytest.fixture(scope="session")
def understander() -> Understander:
    """The real understander, built once from the repository's data folder."""
    return Understander.load(DEFAULT_DATA_DIR)


@pytest.fixture
def tuesday_morning() -> datetime:
    """A weekday at 11:00 in Santiago, when every helpline is open."""
    return datetime(2026, 11, 24, 11, 0, tzinfo=SANTIAGO)
