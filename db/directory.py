"""Mirror the office directory (data files) into the database, so rows can refer to it.

The database also keeps what an office admin sets in the console (opening hours), which
replaces the data files' value for that office in every worker (`office_hours`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Commune, Office
from routing.directory import Directory


async def sync_directory(session: AsyncSession, directory: Directory) -> None:
    """Insert or update every office and commune; rows no longer listed are left alone."""
    for office in directory.offices.values():
        await session.merge(Office(id=office.id, name=office.name, prefecture=office.prefecture))
    for commune in directory.communes.values():
        await session.merge(Commune(cut=commune.cut, name=commune.name, prefecture=commune.prefecture))


async def office_hours(session: AsyncSession) -> dict[str, list[str]]:
    """Office id -> the hours its admin set in the console, for the offices that set any."""
    query = select(Office.id, Office.hours).where(Office.hours.is_not(None))
    return {office_id: list(hours) for office_id, hours in await session.execute(query)}


async def save_office_hours(session: AsyncSession, office_id: str, hours: list[str]) -> None:
    office = await session.get(Office, office_id)
    if office is not None:
        office.hours = hours
