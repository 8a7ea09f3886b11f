"""Console accounts: create, find, list an office's; passwords, activity, Telegram links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Officer


async def create_officer(
    session: AsyncSession,
    *,
    office_id: str,
    name: str,
    email: str,
    role: str,
    password_hash: str,
    now: datetime,
) -> Officer:
    officer = Officer(
        office_id=office_id,
        name=name,
        email=email.lower(),
        role=role,
        password_hash=password_hash,
        must_change_password=True,
        active=True,
        created_at=now,
    )
    session.add(officer)
    await session.flush()
    return officer


async def find_officer(session: AsyncSession, *, email: str) -> Officer | None:
    query = select(Officer).where(Officer.email == email.strip().lower())
    return (await session.execute(query)).scalar_one_or_none()


async def email_taken(session: AsyncSession, email: str) -> bool:
    return await find_officer(session, email=email) is not None


async def office_officers(session: AsyncSession, office_id: str) -> Sequence[Officer]:
    """The office's accounts, active first, then by name."""
    query = (
        select(Officer)
        .where(Officer.office_id == office_id)
        .order_by(Officer.active.desc(), Officer.name, Officer.id)
    )
    return (await session.execute(query)).scalars().all()


def set_password(officer: Officer, password_hash: str, *, one_time: bool) -> None:
    """A new password; `one_time` ones must be changed at the next sign-in."""
    officer.password_hash, officer.must_change_password = password_hash, one_time


async def replace_password(session: AsyncSession, *, officer_id: int, password_hash: str) -> None:
    """The officer chose their own password: it is no longer one to change at sign-in."""
    officer = await session.get(Officer, officer_id)
    if officer is not None:
        set_password(officer, password_hash, one_time=False)


def set_link_code(officer: Officer, code: str, expires_at: datetime) -> None:
    officer.link_code, officer.link_code_expires_at = code, expires_at


async def link_chat(
    session: AsyncSession, *, code: str, channel: str, address: str, now: datetime
) -> Officer | None:
    """Link the chat at (channel, address) to the active officer whose unexpired code this is."""
    query = select(Officer).where(
        Officer.link_code == code, Officer.link_code_expires_at > now, Officer.active.is_(True)
    )
    officer = (await session.execute(query)).scalar_one_or_none()
    if officer is None:
        return None
    # One chat, one officer: a chat linked before to someone else is theirs no longer.
    await session.execute(
        update(Officer)
        .where(Officer.notify_channel == channel, Officer.notify_address == address, Officer.id != officer.id)
        .values(notify_channel=None, notify_address=None)
    )
    officer.notify_channel, officer.notify_address = channel, address
    officer.link_code = officer.link_code_expires_at = None
    return officer


def unlink_chat(officer: Officer) -> None:
    officer.notify_channel = officer.notify_address = None


async def linked_officers(
    session: AsyncSession, office_id: str | None = None, *, on_call: bool = False
) -> Sequence[tuple[int, str, str]]:
    """(officer id, channel, address) of active officers who linked a chat.

    Those of `office_id` (None: of every office); with `on_call`, only those on call.
    """
    query = select(Officer.id, Officer.notify_channel, Officer.notify_address).where(
        Officer.active.is_(True),
        Officer.notify_address.is_not(None),
        Officer.role != "supervisor",
    )
    if office_id is not None:
        query = query.where(Officer.office_id == office_id)
    if on_call:
        query = query.where(Officer.on_call.is_(True))
    return [(officer_id, channel, address) for officer_id, channel, address in await session.execute(query)]
