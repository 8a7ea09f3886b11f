"""The office directory: communes, the offices that serve them, and their opening hours.

Loaded from `offices.toml` and `communes.toml` in the data folder, which an office admin
edits without touching code. Loading validates every cross-reference and fails with a
`DirectoryError` naming the bad entry, so a typo is caught at start, not in a chat.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DAY_NAMES = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
_HOURS = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<opens>\d{2}:\d{2})-(?P<closes>\d{2}:\d{2})$")


class DirectoryError(ValueError):
    """The directory's data files are inconsistent; the message names the entry."""


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One "lun-vie 08:30-17:30" entry: weekdays (0 = Monday) and minutes since midnight."""

    first_day: int
    last_day: int
    opens: int
    closes: int

    @property
    def days(self) -> range:
        return range(self.first_day, self.last_day + 1)

    def covers(self, weekday: int, minute: int) -> bool:
        return weekday in self.days and self.opens <= minute < self.closes


@dataclass(frozen=True, slots=True)
class Office:
    """A community office (Oficina de Integración Comunitaria)."""

    id: str
    name: str
    prefecture: str
    communes: tuple[str, ...]
    hours: tuple[OpeningHours, ...]
    hours_text: tuple[str, ...]
    address: str = ""
    phone: str = ""
    unit: str = ""
    to_confirm: frozenset[str] = frozenset()
    patrol_phones: dict[str, str] = field(default_factory=dict)  # sector -> cuadrante phone

    def is_confirmed(self, field_name: str) -> bool:
        """Whether the office has confirmed `field_name` (and it has a value)."""
        return field_name not in self.to_confirm and bool(getattr(self, field_name))

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (in the office's local time) falls within opening hours."""
        minute = at.hour * 60 + at.minute
        return any(h.covers(at.weekday(), minute) for h in self.hours)

    def next_opening(self, at: datetime) -> datetime | None:
        """When the office next opens after `at` (local time); `at` itself if open now."""
        if self.is_open(at):
            return at
        for days_ahead in range(8):
            day = (at + timedelta(days=days_ahead)).replace(hour=0, minute=0, second=0, microsecond=0)
            for opens in sorted(h.opens for h in self.hours if day.weekday() in h.days):
                candidate = day + timedelta(minutes=opens)
                if candidate > at:
                    return candidate
        return None


@dataclass(frozen=True, slots=True)
class Commune:
    """One of the region's communes, with the places inside it that residents name."""

    cut: str
    name: str
    province: str
    prefecture: str
    office_ids: tuple[str, ...]
    inside_point: tuple[float, float]
    also_written: tuple[str, ...] = ()
    typed_as: tuple[str, ...] = ()
    localities: tuple[str, ...] = ()
    office_by_sector: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Directory:
    """Every office and commune, looked up by id or official name."""

    offices: dict[str, Office]
    communes: dict[str, Commune]
    place_words: frozenset[str] = frozenset()
    residence_words: frozenset[str] = frozenset()
    not_places: frozenset[str] = frozenset()

    def offices_for(self, commune: str) -> tuple[Office, ...]:
        """The offices serving `commune` (official name)."""
        return tuple(self.offices[i] for i in self.communes[commune].office_ids)

    def office_for(self, commune: str, sector: str | None = None) -> Office | None:
        """The one office for `commune`, decided by `sector` where several serve it.

        Returns None when several offices serve the commune and the sector is unknown:
        the neighbor is then asked rather than routed by guess.
        """
        offices = self.offices_for(commune)
        if len(offices) == 1:
            return offices[0]
        office_id = self.communes[commune].office_by_sector.get(sector or "")
        return self.offices[office_id] if office_id else None

    def set_hours(self, office_id: str, entries: Sequence[str]) -> None:
        """The hours an office's admin set in the console: the one change made while running."""
        office = self.offices[office_id]
        where = f"office '{office_id}'"
        entries = canonical_hours(entries)
        self.offices[office_id] = dataclasses.replace(
            office,
            hours=tuple(parse_hours(entry, where) for entry in entries),
            hours_text=tuple(entries),
            to_confirm=office.to_confirm - {"hours"},  # the office itself set them
        )


def load_directory(data_dir: Path) -> Directory:
    """Read and validate `offices.toml` and `communes.toml` from `data_dir`."""
    offices_raw = _read(data_dir / "offices.toml").get("office", [])
    communes_data = _read(data_dir / "communes.toml")
    offices = _build_offices(offices_raw)
    communes = _build_communes(communes_data.get("commune", []), offices)
    gazetteer = communes_data.get("gazetteer", {})
    return Directory(
        offices=offices,
        communes=communes,
        place_words=frozenset(gazetteer.get("place_words", [])),
        residence_words=frozenset(gazetteer.get("residence_words", [])),
        not_places=frozenset(gazetteer.get("not_places", [])),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise DirectoryError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"{path}: {exc}") from exc


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if not entry.get(key):
        raise DirectoryError(f"{where}: missing '{key}'")
    return entry[key]


def _build_offices(raw: Iterable[dict[str, Any]]) -> dict[str, Office]:
    offices: dict[str, Office] = {}
    for index, entry in enumerate(raw, start=1):
        office_id = _require(entry, "id", f"offices.toml, office #{index}")
        where = f"offices.toml, office '{office_id}'"
        if office_id in offices:
            raise DirectoryError(f"{where}: duplicate id")
        hours_text = tuple(entry.get("hours", []))
        offices[office_id] = Office(
            id=office_id,
            name=_require(entry, "name", where),
            prefecture=_require(entry, "prefecture", where),
            communes=tuple(_require(entry, "communes", where)),
            hours=tuple(parse_hours(text, where) for text in hours_text),
            hours_text=hours_text,
            address=entry.get("address", ""),
            phone=entry.get("phone", ""),
            unit=entry.get("unit", ""),
            to_confirm=frozenset(entry.get("to_confirm", [])),
            patrol_phones=dict(entry.get("patrol_phones", {})),
        )
    if not offices:
        raise DirectoryError("offices.toml: no [[office]] entries")
    return offices


def _build_communes(raw: Iterable[dict[str, Any]], offices: dict[str, Office]) -> dict[str, Commune]:
    served_by: dict[str, list[str]] = {}
    for office in offices.values():
        for name in office.communes:
            served_by.setdefault(name, []).append(office.id)

    raw = list(raw)
    known = {entry.get("name") for entry in raw}
    for office in offices.values():
        for name in office.communes:
            if name not in known:
                raise DirectoryError(
                    f"offices.toml, office '{office.id}': unknown commune '{name}' "
                    "(use the official name of communes.toml)"
                )

    communes: dict[str, Commune] = {}
    for index, entry in enumerate(raw, start=1):
        name = _require(entry, "name", f"communes.toml, commune #{index}")
        where = f"communes.toml, commune '{name}'"
        if name in communes:
            raise DirectoryError(f"{where}: duplicate name")
        office_ids = tuple(served_by.get(name, ()))
        if not office_ids:
            raise DirectoryError(f"{where}: served by no office (add it to an office's communes)")
        sectors = dict(entry.get("office_by_sector", {}))
        for sector, office_id in sectors.items():
            if office_id not in office_ids:
                raise DirectoryError(
                    f"{where}: sector '{sector}' is mapped to office '{office_id}', "
                    f"which does not serve {name} (it is served by {', '.join(office_ids)})"
                )
        lat, lon = _require(entry, "inside_point", where)
        communes[name] = Commune(
            cut=_require(entry, "cut", where),
            name=name,
            province=_require(entry, "province", where),
            prefecture=_require(entry, "prefecture", where),
            office_ids=office_ids,
            inside_point=(float(lat), float(lon)),
            also_written=tuple(entry.get("also_written", [])),
            typed_as=tuple(entry.get("typed_as", [])),
            localities=tuple(entry.get("localities", [])),
            office_by_sector=sectors,
        )
    return communes


def canonical_hours(entries: Sequence[str]) -> list[str]:
    """Entries as the directory writes them: lower case, one space ("lun-vie 08:30-17:30")."""
    return [" ".join(entry.lower().split()) for entry in entries]


def parse_hours(text: str, where: str = "hours") -> OpeningHours:
    """Parse "lun-vie 08:30-17:30" (or "sab 09:00-13:00"); "24:00" closes at midnight."""
    match = _HOURS.match(text.strip().lower())
    if not match:
        raise DirectoryError(f"{where}: bad hours '{text}' (expected e.g. 'lun-vie 08:30-17:30')")
    first, _, last = match["days"].partition("-")
    try:
        first_day = DAY_NAMES.index(first)
        last_day = DAY_NAMES.index(last or first)
    except ValueError:
        raise DirectoryError(f"{where}: bad days in '{text}' (use {', '.join(DAY_NAMES)})") from None
    opens, closes = _minutes(match["opens"]), _minutes(match["closes"])
    if first_day > last_day or opens is None or closes is None or opens >= closes:
        raise DirectoryError(f"{where}: bad hour range '{text}'")
    return OpeningHours(first_day, last_day, opens, closes)


def _minutes(hhmm: str) -> int | None:
    hours, minutes = int(hhmm[:2]), int(hhmm[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


Week = list[list[tuple[str, str]]]  # per weekday (0 = Monday), its (opens, closes) ranges


def week_of(office: Office) -> Week:
    """The office's hours day by day, as a form shows them."""
    week: Week = [[] for _ in DAY_NAMES]
    for entry in office.hours:
        for day in entry.days:
            week[day].append((_hhmm(entry.opens), _hhmm(entry.closes)))
    return [sorted(ranges) for ranges in week]


def entries_of(week: Week) -> list[str]:
    """Day-by-day ranges back to entries, consecutive days alike joined ("lun-vie 08:30-17:30")."""
    entries: list[str] = []
    day = 0
    while day < len(DAY_NAMES):
        last = day
        while last + 1 < len(DAY_NAMES) and sorted(week[last + 1]) == sorted(week[day]):
            last += 1
        days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
        entries += [f"{days} {opens}-{closes}" for opens, closes in sorted(week[day])]
        day = last + 1
    return entries


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
