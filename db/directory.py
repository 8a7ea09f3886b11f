"""Mirror the office directory (data files) into the database, so rows can refer to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Commune, Office
from routing.directory import Directory


async def sync_directory(session: AsyncSession, directory: Directory) -> None:
    """Insert or update every office and commune; rows no longer listed are left alone."""
    for office in directory.offices.values():
        await session.merge(Office(id=office.id, name=office.name, prefecture=office.prefecture))
    for commune in directory.communes.values():
        await session.merge(Commune(cut=commune.cut, name=commune.name, prefecture=commune.prefecture))
