"""The schema: what Vecinos keeps, and nothing more than it needs (Ley 21.719).

Personal data lives in `neighbors` (channel address, name, commune) and in what neighbors
wrote (`messages`, `reports`, `inbound_events`); `db/erase.py` erases all of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so that Alembic's batch mode (SQLite) can drop and recreate them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    """Every model: named constraints, JSON dicts, UTC datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, datetime: UTCDateTime}


class Office(Base):
    """A community office, mirrored from the directory so rows can refer to it."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefecture: Mapped[str] = mapped_column(String(64))
    # Opening hours set by the office's admin in the console ("lun-vie 08:30-17:30", …):
    # they replace the directory's, confirmed. None: the directory's stand.
    hours: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))


class Commune(Base):
    """A commune of the region, mirrored from the directory."""

    __tablename__ = "communes"

    cut: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    prefecture: Mapped[str] = mapped_column(String(64))


class Officer(Base):
    """A console account: an officer, an office admin, or a prefecture's supervisor."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="officer")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the officer is told of new waiting conversations (a Telegram chat they linked).
    notify_channel: Mapped[str | None] = mapped_column(String(16))
    notify_address: Mapped[str | None] = mapped_column(String(128))
    link_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    link_code_expires_at: Mapped[datetime | None]
    # Named by the office admin: told of urgent conversations at any hour, not only in office hours.
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class QuickReply(Base):
    """A ready answer an office's officers pick in the console, kept by the office admin."""

    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class SignInFailure(Base):
    """A failed console sign-in, counted by every worker to throttle guessing."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(320))
    failed_at: Mapped[datetime]


class ConsoleSession(Base):
    """A signed-in console session: the cookie carries its token, the row says it still counts.

    Kept server side so that signing out, a password change or a switched-off account ends
    a session for good, even if its cookie is replayed. Only the token's SHA-256 is stored.
    """

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class RateCount(Base):
    """What one rate-limit key spent in one window, shared by every worker.

    `key` is a limit's name and a hash of who is limited (never a plain address or
    token); rows are deleted once `expires_at` passes (two windows after they start).
    """

    __tablename__ = "rate_counts"
    __table_args__ = (Index("ix_rate_counts_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    spent: Mapped[int] = mapped_column(BigInteger)  # requests, or bytes for a quota
    expires_at: Mapped[datetime]


class Neighbor(Base):
    """One neighbor on one channel address, with where they are in the dialog."""

    __tablename__ = "neighbors"
    __table_args__ = (UniqueConstraint("channel", "address"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    commune: Mapped[str | None] = mapped_column(ForeignKey("communes.name"))
    sector: Mapped[str | None] = mapped_column(String(128))
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"))
    step: Mapped[str] = mapped_column(String(32))
    step_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consented_at: Mapped[datetime | None]
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    shares_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Conversation(Base):
    """A neighbor's thread with an office: waiting in the queue, open, or closed."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_queue", "office_id", "status", "urgent", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id", ondelete="CASCADE"), index=True)
    # None: an urgent conversation of a neighbor whose commune is not known yet, waiting in the
    # region-wide queue that every office sees; it moves to an office once one is known.
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"))
    intent: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_kind: Mapped[str | None] = mapped_column(String(16))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]  # an officer's first reply: the office's response time
    closed_at: Mapped[datetime | None]


class Note(Base):
    """An officer's internal note on a conversation: never sent to the neighbor."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Message(Base):
    """One message of a neighbor's transcript, in either direction."""

    __tablename__ = "messages"
    # Ids only grow (SQLite would reuse deleted ones): the web chat pages by id.
    __table_args__ = (Index("ix_messages_neighbor", "neighbor_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    author: Mapped[str] = mapped_column(String(16))  # neighbor, bot or officer
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_ref: Mapped[str | None] = mapped_column(String(256))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    platform_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Report(Base):
    """A neighborhood problem reported to an office, with a reference number."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_open", "office_id", "category", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    neighbor_id: Mapped[int | None] = mapped_column(ForeignKey("neighbors.id", ondelete="SET NULL"))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    commune: Mapped[str] = mapped_column(ForeignKey("communes.name"))
    sector: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    photo_ref: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="received")
    created_at: Mapped[datetime]


class ReportStatus(Base):
    """The status history of a report."""

    __tablename__ = "report_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class ReportFollower(Base):
    """A neighbor who follows someone else's report instead of filing a duplicate."""

    __tablename__ = "report_followers"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]


class InboundEvent(Base):
    """Every platform event, stored before it is acknowledged; the unique key dedupes retries.

    An event is stored in the transaction that handles it, so a stored event was handled.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "platform_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime]
    error: Mapped[str | None] = mapped_column(Text)  # handling failed on a bug: kept, with why


class OutboxMessage(Base):
    """A message to send, sent by the dispatcher with retries; the durable half of every reply."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    neighbor_id: Mapped[int | None] = mapped_column(
        ForeignKey("neighbors.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
