"""Rows to what officers read: one builder per shape, used by the pages and the API alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.console import schemas
from bot.console.context import ConsoleContext, can_act, sees_contact, visible_offices
from db.conversations import (
    conversation_notes,
    conversation_report,
    conversation_transcript,
    earlier_conversations,
)
from db.figures import Figures
from db.models import Conversation, Neighbor, Officer
from db.queue import VIEWS, queue_view, view_counts
from handlers.offices import when_text

# Media kept by the platform only (not downloaded yet) cannot be shown.
_REMOTE_MEDIA = ("telegram:", "twilio:")


def office_ref(context: ConsoleContext, office_id: str) -> schemas.OfficeRef:
    return schemas.OfficeRef(id=office_id, name=context.directory.offices[office_id].name)


def conversation_office(context: ConsoleContext, conversation: Conversation) -> schemas.OfficeRef | None:
    """The conversation's office; None while it waits region-wide, without a commune."""
    return office_ref(context, conversation.office_id) if conversation.office_id else None


def local(context: ConsoleContext, moment: datetime) -> str:
    return moment.astimezone(context.timezone).strftime("%d/%m %H:%M")


def me(context: ConsoleContext, officer: Officer) -> schemas.Me:
    offices = sorted(visible_offices(officer, context.directory))
    return schemas.Me(
        id=officer.id,
        name=officer.name,
        email=officer.email,
        role=officer.role,
        role_label=context.texts(f"officers.roles.{officer.role}"),
        office=office_ref(context, officer.office_id),
        offices=[office_ref(context, o) for o in offices],
        can_act=can_act(officer),
        can_admin=officer.role == "admin",
        alerts_linked=officer.notify_address is not None,
    )


def officer_out(context: ConsoleContext, officer: Officer) -> schemas.OfficerOut:
    return schemas.OfficerOut(
        id=officer.id,
        name=officer.name,
        email=officer.email,
        role=officer.role,
        role_label=context.texts(f"officers.roles.{officer.role}"),
        active=officer.active,
        on_call=officer.on_call,
        alerts_linked=officer.notify_address is not None,
        must_change_password=officer.must_change_password,
    )


async def queue(context: ConsoleContext, officer: Officer, view: str) -> schemas.Queue:
    """One view of the officer's queue, with every view's count. No neighbor's address here."""
    texts, view = context.texts, view if view in VIEWS else "waiting"
    offices = visible_offices(officer, context.directory)
    async with context.sessions() as session:
        counts = await view_counts(session, offices, officer.id)
        rows = await queue_view(session, offices, view, officer.id)
    items = [
        schemas.QueueItem(
            id=conversation.id,
            urgent=conversation.urgent,
            emergency_kind=conversation.emergency_kind,
            intent=conversation.intent,
            intent_label=texts(f"console.intents.{conversation.intent}"),
            commune=neighbor.commune or "",
            office=conversation_office(context, conversation),
            created_at=conversation.created_at,
            since=texts(
                "console.waiting_since",
                when=when_text(conversation.created_at.astimezone(context.timezone), texts),
            ),
        )
        for conversation, neighbor in rows
    ]
    labels = {v: texts(f"console.views.{v}", count=counts[v]) for v in VIEWS}
    return schemas.Queue(view=view, counts=counts, labels=labels, items=items)


async def conversation(
    context: ConsoleContext,
    session: AsyncSession,
    officer: Officer,
    conversation: Conversation,
    neighbor: Neighbor,
) -> schemas.Conversation:
    """Everything an officer reads of one conversation they may see."""
    texts = context.texts
    transcript = await conversation_transcript(session, conversation.id)
    notes = await conversation_notes(session, conversation.id)
    report = await conversation_report(session, conversation.id)
    earlier = await earlier_conversations(session, neighbor.id, conversation.id)
    assigned = (
        await session.get(Officer, conversation.assigned_officer_id)
        if conversation.assigned_officer_id
        else None
    )
    offices = visible_offices(officer, context.directory)
    messages = [
        schemas.TranscriptMessage(
            id=message.id,
            direction=message.direction,
            author=message.author,
            author_label=texts(f"console.conversation.author_{message.author}"),
            text=message.text,
            media_kind=message.media_kind,
            media_url=f"/console/media/{message.id}"
            if message.media_ref and not message.media_ref.startswith(_REMOTE_MEDIA)
            else None,
            delivery=status,
            delivery_label=_delivery_label(context, status, error),
            at=message.created_at,
            at_label=local(context, message.created_at),
        )
        for message, status, error in transcript
    ]
    return schemas.Conversation(
        id=conversation.id,
        status=conversation.status,
        status_label=texts(f"console.statuses.{conversation.status}"),
        urgent=conversation.urgent,
        emergency_kind=conversation.emergency_kind,
        intent=conversation.intent,
        intent_label=texts(f"console.intents.{conversation.intent}"),
        office=conversation_office(context, conversation),
        commune=neighbor.commune or "",
        channel=neighbor.channel,
        channel_label=texts(f"console.channels.{neighbor.channel}")
        if f"console.channels.{neighbor.channel}" in texts
        else neighbor.channel,
        contact=neighbor.address if sees_contact(officer, conversation, neighbor) else None,
        assigned_officer=assigned.name if assigned else None,
        outcome=conversation.outcome,
        created_at=conversation.created_at,
        messages=messages,
        notes=[
            schemas.NoteOut(
                id=note.id,
                author=name,
                text=note.text,
                at=note.created_at,
                at_label=local(context, note.created_at),
            )
            for note, name in notes
        ],
        report=report
        and schemas.ReportOut(
            reference=report.reference,
            category=report.category,
            category_label=texts(f"report.categories.{report.category}"),
            place=report.place or report.commune,
            status=report.status,
            status_label=texts(f"report_status.labels.{report.status}"),
        ),
        earlier=[
            schemas.EarlierConversation(
                id=e.id,
                at_label=local(context, e.created_at),
                intent_label=texts(f"console.intents.{e.intent}"),
                status_label=texts(f"console.statuses.{e.status}"),
                outcome_label=texts(f"console.outcomes.{e.outcome}") if e.outcome else "",
                visible=e.office_id in offices,
            )
            for e in earlier
        ],
    )


def _delivery_label(context: ConsoleContext, status: str | None, error: str | None) -> str:
    if status is None:
        return ""
    label = context.texts(f"console.delivery.{status}")
    return (
        context.texts("console.delivery.why", status=label, why=error)
        if error and status in ("waiting", "failed")
        else label
    )


def figures(context: ConsoleContext, found: Figures, office_ids: list[str], weeks: int) -> schemas.Figures:
    texts = context.texts

    def counts(rows: list[tuple[str, int]], key: str | None = None) -> list[schemas.Count]:
        return [
            schemas.Count(
                label=texts(f"{key}.{value}") if key else value or texts("console.figures.unknown"),
                count=count,
            )
            for value, count in rows
        ]

    median = found.median_first_response
    oldest = found.backlog.oldest_waiting_at
    return schemas.Figures(
        offices=[office_ref(context, o) for o in office_ids],
        weeks=weeks,
        since=found.since.strftime("%d/%m/%Y"),
        conversations=found.conversations,
        reports=found.reports,
        conversations_by_commune=counts(found.conversations_by_commune),
        conversations_by_intent=counts(found.conversations_by_intent, "console.intents"),
        reports_by_category=counts(found.reports_by_category, "report.categories"),
        reports_by_commune=counts(found.reports_by_commune),
        reports_by_sector=[
            schemas.Count(label=f"{commune} · {sector}" if sector else commune, count=count)
            for commune, sector, count in found.reports_by_sector
        ],
        by_week=[
            schemas.Week(monday=monday.strftime("%d/%m"), conversations=c, reports=r)
            for monday, c, r in found.weeks
        ],
        by_office=[
            schemas.OfficeFigures(office=office_ref(context, o), conversations=c, reports=r, waiting=w)
            for o, c, r, w in found.by_office
        ],
        answered=found.answered,
        median_first_response_minutes=round(median.total_seconds() / 60, 1) if median is not None else None,
        waiting=found.backlog.waiting,
        urgent_waiting=found.backlog.urgent_waiting,
        open=found.backlog.open,
        oldest_waiting_since=when_text(oldest.astimezone(context.timezone), texts) if oldest else None,
    )
