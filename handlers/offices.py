"""How an office is presented to a neighbor: its card, its hours, when it will answer.

Unconfirmed facts read "por confirmar": the line never invents an address or an hour.
"""

from __future__ import annotations

from datetime import datetime

from handlers.texts import Texts
from routing.directory import Office


def office_card(office: Office, texts: Texts, sector: str | None = None) -> str:
    """Name, unit, address, phone and hours, each marked where unconfirmed."""
    card = texts(
        "office.card",
        name=office.name,
        unit=texts("office.unit", unit=office.unit) if office.unit else "",
        address=shown_field(office, "address", office.address, texts),
        phone=shown_field(office, "phone", office.phone, texts),
        hours=hours_text(office, texts),
    )
    patrol = office.patrol_phones.get(sector or "")
    return "\n".join([card, texts("office.patrol", phone=patrol)]) if patrol else card


def hours_text(office: Office, texts: Texts) -> str:
    """The opening hours in words: «lunes a viernes de 08:30 a 17:30 (por confirmar)»."""
    if not office.hours_text:
        return texts("directory.to_confirm")
    names = texts.table("calendar.short_days")
    entries = []
    for entry in office.hours_text:
        days, _, times = entry.partition(" ")
        first, _, last = days.partition("-")
        day_text = texts("office.days_range", first=names[first], last=names[last]) if last else names[first]
        opens, _, closes = times.partition("-")
        entries.append(texts("office.hours_entry", days=day_text, opens=opens, closes=closes))
    return shown_field(office, "hours", "; ".join(entries), texts)


def when_text(moment: datetime, texts: Texts) -> str:
    """A moment in words: «lunes 30 de noviembre a las 08:30»."""
    return texts(
        "office.at_time",
        day=texts.table("calendar.days")[moment.weekday()],
        date=moment.day,
        month=texts.table("calendar.months")[moment.month - 1],
        time=moment.strftime("%H:%M"),
    )


def shown_field(office: Office, name: str, value: str, texts: Texts) -> str:
    """`value`, or "por confirmar" when missing, marked when the office has not confirmed it."""
    if not value:
        return texts("directory.to_confirm")
    if name in office.to_confirm:
        return texts("directory.with_to_confirm", value=value)
    return value
