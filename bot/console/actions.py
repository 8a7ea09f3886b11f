"""Everything an officer can change, for the pages and the API alike.

Each action checks, in this order: that the officer may see the thing (404 otherwise, so
nothing leaks), that their role may change it (403), that the input is valid (400); only
then does it change anything, in one transaction. Replies it queues leave through the
outbox, on the neighbor's channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.auth import (
    LINK_CODE_VALID,
    hash_password_off_loop,
    link_code,
    one_time_password,
    verify_password_off_loop,
)
from bot.console import schemas
from bot.console.context import (
    ConsoleContext,
    Invalid,
    NotFound,
    Throttled,
    require_act,
    require_admin,
    visible_conversation,
)
from db.console_sessions import end_officer_sessions
from db.conversations import conversation_report
from db.directory import save_office_hours
from db.models import Conversation, Neighbor, Officer
from db.officers import (
    create_officer,
    email_taken,
    replace_password,
    set_link_code,
    set_password,
    unlink_chat,
)
from db.quick_replies import add_quick_reply, delete_quick_reply
from handlers import officers
from routing.directory import DirectoryError, canonical_hours, parse_hours


@dataclass(frozen=True, slots=True)
class Target:
    """The conversation an action works on, checked visible, in the action's transaction."""

    session: AsyncSession
    officer: Officer
    conversation: Conversation
    neighbor: Neighbor
    now: datetime

    def still_active(self) -> None:
        if self.conversation.status == "closed":
            raise Invalid("closed")


# --- a conversation --------------------------------------------------------------------


async def _take(context: ConsoleContext, target: Target, body: None) -> None:
    target.still_active()
    officers.take(target.conversation, target.officer, target.now)


async def _reply(context: ConsoleContext, target: Target, body: schemas.ReplyBody) -> None:
    target.still_active()
    await officers.reply(
        target.session, target.conversation, target.neighbor, target.officer, body.text, target.now
    )


async def _note(context: ConsoleContext, target: Target, body: schemas.NoteBody) -> None:
    officers.add_note(target.session, target.conversation, target.officer, body.text, target.now)


async def _transfer(context: ConsoleContext, target: Target, body: schemas.TransferBody) -> None:
    target.still_active()
    office = context.directory.offices.get(body.office)
    if office is None or office.id == target.conversation.office_id:
        raise Invalid("unknown_office")
    await officers.transfer(
        target.session,
        target.conversation,
        target.neighbor,
        to_office=office.id,
        to_office_name=office.name,
        reason=body.reason,
        texts=context.texts,
        alerts=context.alerts,
        now=target.now,
    )


async def _close(context: ConsoleContext, target: Target, body: schemas.CloseBody) -> None:
    target.still_active()
    if body.outcome == "derived" and not body.derived_to:
        raise Invalid("derived_needs_to")
    await officers.close(
        target.session,
        target.conversation,
        target.neighbor,
        outcome=body.outcome,
        derived_to=body.derived_to,
        office_name=context.directory.offices[target.conversation.office_id].name,
        texts=context.texts,
        now=target.now,
    )


async def _report_status(context: ConsoleContext, target: Target, body: schemas.ReportStatusBody) -> None:
    report = await conversation_report(target.session, target.conversation.id)
    if report is None:
        raise Invalid("no_report")
    await officers.update_report(
        target.session, report, status=body.status, note=body.note, texts=context.texts, now=target.now
    )


ConversationAction = Callable[[ConsoleContext, Target, Any], Awaitable[None]]

# name -> (what the body must be, what the action does)
CONVERSATION_ACTIONS: dict[str, tuple[type[schemas.Body] | None, ConversationAction]] = {
    "take": (None, _take),
    "reply": (schemas.ReplyBody, _reply),
    "note": (schemas.NoteBody, _note),
    "transfer": (schemas.TransferBody, _transfer),
    "close": (schemas.CloseBody, _close),
    "report-status": (schemas.ReportStatusBody, _report_status),
}


async def act_on_conversation(
    context: ConsoleContext, officer: Officer, conversation_id: int, action: str, data: Any
) -> None:
    """Run `action` on the conversation with `data` (a form or a JSON body)."""
    if action not in CONVERSATION_ACTIONS:
        raise NotFound("not_found")
    body_model, run = CONVERSATION_ACTIONS[action]
    async with context.sessions.begin() as session:
        conversation, neighbor = await visible_conversation(
            session, officer, conversation_id, context.directory
        )
        require_act(officer)
        body = body_model.parse(data) if body_model is not None else None
        target = Target(session, officer, conversation, neighbor, datetime.now(UTC))
        if conversation.office_id is None:  # region-wide: whoever acts on it brings it to their office
            officers.claim(conversation, officer, target.now)
        await run(context, target, body)
    context.outbox_ready.set()


# --- one's own account -----------------------------------------------------------------


async def change_password(
    context: ConsoleContext, officer: Officer, data: Any, *, address: str, keep: str | None
) -> None:
    """A new password; every session of the officer but `keep` (this one) ends.

    The current password is asked unless it was a one-time one, and a wrong one counts in
    the sign-in throttle: a borrowed session is no way to guess it.
    """
    body = schemas.PasswordBody.parse(data)
    if body.password != body.repeat:
        raise Invalid("passwords_differ")
    refusal = context.passwords.refusal(body.password, email=officer.email, name=officer.name)
    if refusal is not None:
        raise Invalid(refusal)
    if not officer.must_change_password:
        await _check_current_password(context, officer, body.current, address)
    password_hash = await hash_password_off_loop(body.password)
    async with context.sessions.begin() as session:
        await replace_password(session, officer_id=officer.id, password_hash=password_hash)
        await end_officer_sessions(session, officer_id=officer.id, keep=keep)


async def _check_current_password(
    context: ConsoleContext, officer: Officer, current: str, address: str
) -> None:
    now = datetime.now(UTC)
    async with context.sessions() as session:
        if await context.throttle.blocked(session, officer.email, address, now):
            raise Throttled()
    if not await verify_password_off_loop(officer.password_hash, current):
        async with context.sessions.begin() as session:
            await context.throttle.failed(session, officer.email, address, now)
        raise Invalid("wrong_password")


async def new_link_code(context: ConsoleContext, officer: Officer) -> schemas.LinkCode:
    """A code the officer sends the bot to link their chat for alerts; valid for a while."""
    channel = context.alert_channel
    if channel is None:
        raise Invalid("alerts_off")
    code, expires_at = link_code(), datetime.now(UTC) + LINK_CODE_VALID
    async with context.sessions.begin() as session:
        set_link_code(await session.get(Officer, officer.id), code, expires_at)
    return schemas.LinkCode(
        code=code,
        expires_at=expires_at,
        command=context.texts("console.account.link_command", code=code),
        link=channel.chat_link(f"vincular-{code}"),
    )


async def unlink_alerts(context: ConsoleContext, officer: Officer) -> None:
    async with context.sessions.begin() as session:
        unlink_chat(await session.get(Officer, officer.id))


# --- an office admin's ---------------------------------------------------------------------


async def add_officer(context: ConsoleContext, admin: Officer, data: Any) -> tuple[Officer, str]:
    """An account in the admin's office, with a one-time password to hand over."""
    require_admin(admin)
    body = schemas.OfficerBody.parse(data)
    password = one_time_password()
    password_hash = await hash_password_off_loop(password)
    async with context.sessions.begin() as session:
        if await email_taken(session, body.email):
            raise Invalid("email_taken")
        officer = await create_officer(
            session,
            office_id=admin.office_id,
            name=body.name,
            email=body.email,
            role=body.role,
            password_hash=password_hash,
            now=datetime.now(UTC),
        )
    return officer, password


async def reset_password(context: ConsoleContext, admin: Officer, officer_id: int) -> tuple[Officer, str]:
    """A new one-time password for an account of the office; its sessions end."""
    require_admin(admin)
    password = one_time_password()
    password_hash = await hash_password_off_loop(password)
    async with context.sessions.begin() as session:
        officer = await _office_account(session, admin, officer_id)
        set_password(officer, password_hash, one_time=True)
        await end_officer_sessions(session, officer_id=officer.id)
    return officer, password


async def set_active(context: ConsoleContext, admin: Officer, officer_id: int, data: Any) -> Officer:
    """Switch an account off (it can no longer sign in, its alerts stop) or on again."""
    require_admin(admin)
    body = schemas.ActiveBody.parse(data)
    async with context.sessions.begin() as session:
        officer = await _office_account(session, admin, officer_id)
        if officer.id == admin.id:
            raise Invalid("not_yourself")
        officer.active = body.active
        if not body.active:  # switched on again, it signs in anew
            await end_officer_sessions(session, officer_id=officer.id)
    return officer


async def set_on_call(context: ConsoleContext, admin: Officer, officer_id: int, data: Any) -> Officer:
    """Name an account of the office on call (told of urgent conversations at any hour), or not."""
    require_admin(admin)
    body = schemas.OnCallBody.parse(data)
    async with context.sessions.begin() as session:
        officer = await _office_account(session, admin, officer_id)
        officer.on_call = body.on_call
    return officer


async def _office_account(session: AsyncSession, admin: Officer, officer_id: int) -> Officer:
    officer = await session.get(Officer, officer_id)
    if officer is None or officer.office_id != admin.office_id:
        raise NotFound("not_found")
    return officer


async def set_hours(context: ConsoleContext, admin: Officer, data: Any) -> list[str]:
    """The office's opening hours, told to neighbors from now on, by every worker."""
    require_admin(admin)
    entries = canonical_hours(schemas.HoursBody.parse(data).hours)
    try:
        for entry in entries:
            parse_hours(entry)
    except DirectoryError:
        raise Invalid("bad_hours") from None
    async with context.sessions.begin() as session:
        await save_office_hours(session, admin.office_id, entries)
    context.directory.set_hours(admin.office_id, entries)
    return entries


async def add_office_quick_reply(context: ConsoleContext, admin: Officer, data: Any) -> None:
    require_admin(admin)
    body = schemas.QuickReplyBody.parse(data)
    async with context.sessions.begin() as session:
        add_quick_reply(
            session, office_id=admin.office_id, title=body.title, text=body.text, now=datetime.now(UTC)
        )


async def delete_office_quick_reply(context: ConsoleContext, admin: Officer, quick_reply_id: int) -> None:
    require_admin(admin)
    async with context.sessions.begin() as session:
        if not await delete_quick_reply(session, office_id=admin.office_id, quick_reply_id=quick_reply_id):
            raise NotFound("not_found")
