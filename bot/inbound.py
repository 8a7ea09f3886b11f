"""The one entry of every channel: store the event, handle it, queue the replies.

All of it is one short transaction, committed before the platform gets its answer: a
platform retry of the same event finds its row and changes nothing, and a crash before
the commit leaves nothing half done (the platform retries). If handling fails on a bug,
the event is still stored, with the error, and the neighbor is told it was kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clean import clean_json, clean_text
from bot.media import MediaStore
from bot.metrics import Metrics
from db.errors import bug_report, describe, is_outage
from db.inbound import inbound_exists, record_inbound
from db.models import Office
from db.neighbors import add_bot_messages
from db.officers import link_chat
from db.outbox import enqueue_many, release_waiting
from handlers.events import InboundMessage, Media, Reply
from handlers.neighbor import Dialog
from handlers.texts import Texts
from handlers.turn import Turn

log = logging.getLogger(__name__)
FetchMedia = Callable[[], Awaitable[tuple[Media, ...]]]


class InboundPipeline:
    """Receives `InboundMessage`s from the channel adapters."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dialog: Dialog,
        texts: Texts,
        media: MediaStore,
        metrics: Metrics,
        outbox_ready: asyncio.Event,
    ) -> None:
        self._sessions = sessions
        self._dialog = dialog
        self._texts = texts
        self._media = media
        self._metrics = metrics
        self._outbox_ready = outbox_ready

    async def receive(
        self,
        message: InboundMessage,
        payload: dict[str, Any] | None = None,
        *,
        fetch_media: FetchMedia | None = None,
    ) -> bool:
        """Handle `message` once; False when it is a platform retry of an event already stored.

        `fetch_media` downloads the message's files: only for an event not stored yet, and
        what a retry racing it downloaded is deleted. Raises `SQLAlchemyError` or `OSError`
        (a connection refused) when the database is down (`db.errors.is_outage`): the caller
        must then not acknowledge, so that the platform retries. The payload is stored
        cleaned (no NUL, no lone surrogate), like every field the channel adapters checked.
        """
        if fetch_media is not None:
            async with self._sessions() as session:
                if await inbound_exists(session, channel=message.channel, platform_id=message.platform_id):
                    self._metrics.duplicates.labels(channel=message.channel).inc()
                    return False
            message = replace(message, media=await fetch_media())
        payload = clean_json(payload if payload is not None else _payload_of(message))
        now = datetime.now(UTC)
        accepted = await self._handle(message, payload, now)
        if not accepted:
            self._media.delete(_stored_files(message))
        return accepted

    async def _handle(self, message: InboundMessage, payload: dict[str, Any], now: datetime) -> bool:
        started = time.perf_counter()
        try:
            async with self._sessions.begin() as session:
                event_id = await record_inbound(
                    session,
                    channel=message.channel,
                    platform_id=message.platform_id,
                    address=message.address,
                    payload=payload,
                    now=now,
                )
                if event_id is None:
                    self._metrics.duplicates.labels(channel=message.channel).inc()
                    return False
                # What waited for the neighbor to write goes first: its ids precede the replies'.
                await release_waiting(session, channel=message.channel, address=message.address, now=now)
                turn = await self._dialog.handle(session, message)
                await self._queue_replies(session, turn, f"in:{event_id}", now)
        except (SQLAlchemyError, OSError) as exc:
            if is_outage(exc):  # the database is away, not the handling: the platform retries
                raise
            # The database refused what handling wrote: a bug, kept like any other. No platform
            # id in the log: the web chat's carries the neighbor's token.
            log.error("inbound: handling a %s message failed: %s", message.channel, bug_report(exc))
            self._metrics.handling_errors.inc()
            await self._keep_after_failure(message, payload, now, describe(exc))
        except Exception as exc:
            log.exception("inbound: handling a %s message failed; it is kept with the error", message.channel)
            self._metrics.handling_errors.inc()
            await self._keep_after_failure(message, payload, now, repr(exc))
        else:
            if turn.erased_files:
                self._media.delete(turn.erased_files)
            if turn.understanding.emergency:
                self._metrics.emergencies.labels(kind=turn.understanding.emergency.kind).inc()
        self._metrics.inbound.labels(channel=message.channel).inc()
        self._metrics.inbound_seconds.observe(time.perf_counter() - started)
        self._outbox_ready.set()
        return True

    async def notify_once(
        self, *, channel: str, address: str, key: str, platform_id: str, reply: Reply
    ) -> None:
        """Store an event that starts no dialog, and send `reply` to `address` once ever (`key`)."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            event_id = await record_inbound(
                session, channel=channel, platform_id=platform_id, address=address, payload={}, now=now
            )
            if event_id is not None:
                await enqueue_many(session, [_reply_row(key, channel, address, reply)], now=now)
        self._outbox_ready.set()

    async def link_officer(self, *, channel: str, address: str, platform_id: str, code: str) -> None:
        """An officer sent their console's link code: this chat gets their office's alerts.

        Stored (and deduplicated) like every event, but it starts no neighbor dialog.
        """
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            event_id = await record_inbound(
                session,
                channel=channel,
                platform_id=platform_id,
                address=address,
                payload={"link": True},
                now=now,
            )
            if event_id is None:
                return
            officer = await link_chat(session, code=code, channel=channel, address=address, now=now)
            if officer is None:
                reply = Reply(self._texts("alerts.link_failed"))
            else:
                office = await session.get(Office, officer.office_id)
                reply = Reply(self._texts("alerts.linked", name=officer.name, office=office.name))
            await enqueue_many(session, [_reply_row(f"in:{event_id}:0", channel, address, reply)], now=now)
        self._outbox_ready.set()

    async def _queue_replies(self, session: AsyncSession, turn: Turn, key: str, now: datetime) -> None:
        """The replies join the transcript (unless the neighbor was just erased) and the outbox."""
        erased = turn.erased_files is not None
        message_ids: list[int | None] = [None] * len(turn.replies)
        if not erased:
            message_ids = await add_bot_messages(  # type: ignore[assignment]
                session,
                neighbor=turn.neighbor,
                conversation_id=turn.inbound.conversation_id if turn.inbound else None,
                messages=[
                    (r.text, [{"key": o.key, "label": o.label} for o in r.options]) for r in turn.replies
                ],
                now=now,
            )
        rows = [
            {
                "dedupe_key": f"{key}:{index}",
                "channel": turn.message.channel,
                "address": turn.message.address,
                "payload": replace(reply, answers_at=turn.message.received_at).to_payload(),
                "neighbor_id": None if erased else turn.neighbor.id,
                "message_id": message_id,
            }
            for index, (reply, message_id) in enumerate(zip(turn.replies, message_ids, strict=True))
        ]
        await enqueue_many(session, rows, now=now)

    async def _keep_after_failure(
        self, message: InboundMessage, payload: dict[str, Any], now: datetime, error: str
    ) -> None:
        """Store the event with its error and tell the neighbor; never lose a message to a bug."""
        async with self._sessions.begin() as session:
            event_id = await record_inbound(
                session,
                channel=message.channel,
                platform_id=message.platform_id,
                address=message.address,
                payload=payload,
                now=now,
                error=clean_text(error),
            )
            if event_id is None:
                return
            replies = [self._dialog.emergency_reply(message), Reply(self._texts("errors.failed"))]
            rows = [
                _reply_row(f"in:{event_id}:failed:{index}", message.channel, message.address, reply)
                for index, reply in enumerate(r for r in replies if r is not None)
            ]
            await enqueue_many(session, rows, now=now)


def _reply_row(dedupe_key: str, channel: str, address: str, reply: Reply) -> dict[str, Any]:
    """An outbox row for a reply outside any neighbor's transcript."""
    return {"dedupe_key": dedupe_key, "channel": channel, "address": address, "payload": reply.to_payload()}


def _stored_files(message: InboundMessage) -> list[str]:
    """The files the channel stored for `message` (not the ones kept as a platform reference)."""
    return [media.ref for media in message.media if ":" not in media.ref]


def _payload_of(message: InboundMessage) -> dict[str, Any]:
    payload = asdict(message)
    payload["received_at"] = message.received_at.isoformat()
    return payload
