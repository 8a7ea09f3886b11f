"""The office directory as an admin reads it: a table, or JSON for machines.

Every unconfirmed fact is marked "por confirmar" so that an admin knows what to check
with each office before neighbors rely on it.
"""

from __future__ import annotations

from typing import Any

from handlers.offices import shown_field
from handlers.texts import Texts
from routing.directory import Directory, Office

_COLUMNS = ("id", "office", "prefecture", "communes", "address", "phone", "hours")


def offices_json(directory: Directory) -> dict[str, Any]:
    """`{"offices": [...]}`: every office with its communes, sectors and unconfirmed fields."""
    offices = []
    for office in directory.offices.values():
        sectors = {
            sector: commune.name
            for commune in directory.communes.values()
            for sector, office_id in commune.office_by_sector.items()
            if office_id == office.id
        }
        offices.append(
            {
                "id": office.id,
                "name": office.name,
                "unit": office.unit or None,
                "prefecture": office.prefecture,
                "communes": list(office.communes),
                "sectors": sectors,
                "address": office.address or None,
                "phone": office.phone or None,
                "hours": list(office.hours_text),
                "to_confirm": sorted(office.to_confirm | _missing(office)),
            }
        )
    return {"offices": offices}


def offices_table(directory: Directory, texts: Texts) -> str:
    """A plain-text table of the directory, unconfirmed facts marked, with a summary."""
    rows = [[texts(f"directory.header_{c}") for c in _COLUMNS]]
    for office in directory.offices.values():
        rows.append(
            [
                office.id,
                office.name,
                office.prefecture,
                shown_field(office, "communes", ", ".join(office.communes), texts),
                shown_field(office, "address", office.address, texts),
                shown_field(office, "phone", office.phone, texts),
                shown_field(office, "hours", "; ".join(office.hours_text), texts),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    unconfirmed = sum(1 for o in directory.offices.values() if o.to_confirm | _missing(o))
    summary_key = "directory.summary" if unconfirmed else "directory.all_confirmed"
    counts = {"offices": len(directory.offices), "communes": len(directory.communes)}
    lines += ["", texts(summary_key, unconfirmed=unconfirmed, **counts)]
    return "\n".join(lines)


def _missing(office: Office) -> set[str]:
    return {name for name in ("address", "phone") if not getattr(office, name)}
