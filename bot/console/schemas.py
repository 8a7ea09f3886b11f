"""The console's data shapes: what forms and the JSON API accept, and what the API returns.

Forms and API calls are validated by the same models, so both refuse the same input with
the same message; the OpenAPI document (`/api/openapi.json`) is generated from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.clean import clean_json
from bot.console.context import Invalid
from bot.passwords import MIN_PASSWORD
from db.limits import OFFICER_EMAIL, OFFICER_NAME, QUICK_REPLY_TITLE
from handlers.officers import OUTCOMES, REPORT_STATUSES

Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
ReportStatusValue = Literal[REPORT_STATUSES]  # type: ignore[valid-type]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_HOURS_ENTRY = 64  # "lun-vie 08:30-17:30" and its like


class Body(BaseModel):
    """A request body; `refusals` names the error text for each field that can be refused."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")
    refusals: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls, data: Any) -> Any:
        """The validated body, or `Invalid` with the key of the first refused field's text.

        Its strings are cleaned first (`bot.clean`): PostgreSQL would refuse a NUL or a lone
        surrogate that SQLite stores, and the two must answer alike.
        """
        if isinstance(data, Mapping):  # a form, or a JSON object
            data = {key: data[key] for key in data}
        try:
            return cls.model_validate(clean_json(data))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            key = "too_long" if error["type"] == "string_too_long" else cls.refusals.get(field, "bad_input")
            raise Invalid(key) from None


class ReplyBody(Body):
    """An officer's answer to the neighbor, sent on the channel they wrote from."""

    text: str = Field(min_length=1, max_length=4000, description="The answer the neighbor receives.")
    refusals: ClassVar = {"text": "empty_reply"}


class NoteBody(Body):
    """An internal note on the conversation."""

    text: str = Field(min_length=1, max_length=4000, description="Internal: never sent to the neighbor.")
    refusals: ClassVar = {"text": "empty_note"}


class TransferBody(Body):
    """Move the conversation to another office's queue."""

    office: str = Field(description="The id of the office that takes the conversation.")
    reason: str = Field(min_length=1, max_length=300, description="Told to the neighbor, in plain words.")
    refusals: ClassVar = {"office": "unknown_office", "reason": "needs_reason"}


class CloseBody(Body):
    """Close the conversation; the neighbor is told the outcome and asked if it was solved."""

    outcome: Outcome  # type: ignore[valid-type]
    derived_to: str = Field(default="", max_length=200, description="To whom, for outcome 'derived'.")
    refusals: ClassVar = {"outcome": "bad_outcome"}


class ReportStatusBody(Body):
    """A new status for the conversation's report, told to its author and followers."""

    status: ReportStatusValue  # type: ignore[valid-type]
    note: str = Field(default="", max_length=500, description="Told to the neighbor with the status.")
    refusals: ClassVar = {"status": "bad_status"}


class PasswordBody(Body):
    """One's own new password."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")
    current: str = Field(default="", description="Not needed right after signing in with a one-time one.")
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    repeat: str
    refusals: ClassVar = {"password": "password_too_short", "repeat": "passwords_differ"}


class OfficerBody(Body):
    """A new account in the admin's office."""

    name: str = Field(min_length=1, max_length=OFFICER_NAME)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=OFFICER_EMAIL)
    role: Literal["officer", "admin"] = "officer"
    refusals: ClassVar = {"name": "needs_name", "email": "bad_email", "role": "bad_role"}


class ActiveBody(Body):
    """Switch an account on or off."""

    active: bool


class OnCallBody(Body):
    """Whether the account is on call: told of urgent conversations at any hour."""

    on_call: bool


class HoursBody(Body):
    """The office's opening hours, as neighbors are told them."""

    hours: list[Annotated[str, Field(max_length=MAX_HOURS_ENTRY)]] = Field(
        max_length=21, description='Entries like "lun-vie 08:30-17:30" or "sab 09:00-13:00"; [] for none.'
    )
    refusals: ClassVar = {"hours": "bad_hours"}


class QuickReplyBody(Body):
    """A ready answer for the office's officers."""

    title: str = Field(min_length=1, max_length=QUICK_REPLY_TITLE)
    text: str = Field(min_length=1, max_length=1000)
    refusals: ClassVar = {"title": "needs_title", "text": "needs_text"}


# --- what the API returns ---------------------------------------------------------------


class Out(BaseModel):
    """Base of every response."""

    model_config = ConfigDict(from_attributes=True)


class OfficeRef(Out):
    """An office of the directory."""

    id: str
    name: str


class Me(Out):
    """The signed-in account and what it may do."""

    id: int
    name: str
    email: str
    role: str
    role_label: str
    office: OfficeRef
    offices: list[OfficeRef] = Field(description="The offices whose conversations this account sees.")
    can_act: bool = Field(description="False for supervisors, who only read.")
    can_admin: bool
    alerts_linked: bool = Field(description="Whether a chat is linked for new-conversation alerts.")


class QueueItem(Out):
    """A conversation in a queue view; never the neighbor's address."""

    id: int
    urgent: bool
    emergency_kind: str | None
    intent: str
    intent_label: str
    commune: str
    office: OfficeRef | None = Field(
        description="None: urgent and region-wide, the neighbor's commune is not known yet."
    )
    created_at: datetime
    since: str


class Queue(Out):
    """One view of the queue (urgent first, then oldest, for waiting), with every view's count."""

    view: Literal["waiting", "mine", "open", "closed"]
    counts: dict[str, int]
    labels: dict[str, str]
    items: list[QueueItem]


class TranscriptMessage(Out):
    """One message of the transcript, in either direction."""

    id: int
    direction: Literal["in", "out"]
    author: str
    author_label: str
    text: str
    media_kind: str | None = Field(description="photo, voice or document, when one is kept.")
    media_url: str | None
    delivery: str | None = Field(description="The outbox status of an outbound message.")
    delivery_label: str
    at: datetime
    at_label: str


class NoteOut(Out):
    """An internal note, with who wrote it."""

    id: int
    author: str
    text: str
    at: datetime
    at_label: str


class ReportOut(Out):
    """The report a conversation is about."""

    reference: str
    category: str
    category_label: str
    place: str
    status: str
    status_label: str


class EarlierConversation(Out):
    """One of the neighbor's earlier conversations."""

    id: int
    at_label: str
    intent_label: str
    status_label: str
    outcome_label: str
    visible: bool = Field(description="Whether this account may open it (another office's may not).")


class Conversation(Out):
    """Everything an officer reads of one conversation."""

    id: int
    status: Literal["waiting", "open", "closed"]
    status_label: str
    urgent: bool
    emergency_kind: str | None
    intent: str
    intent_label: str
    office: OfficeRef | None = Field(
        description="None: urgent and region-wide, the neighbor's commune is not known yet."
    )
    commune: str
    channel: str
    channel_label: str
    contact: str | None = Field(description="The neighbor's number: only if they chose to share it.")
    assigned_officer: str | None
    outcome: str | None
    created_at: datetime
    messages: list[TranscriptMessage]
    notes: list[NoteOut]
    report: ReportOut | None
    earlier: list[EarlierConversation]


class QuickReplyOut(Out):
    """A ready answer of the office."""

    id: int
    title: str
    text: str


class OfficerOut(Out):
    """An account of the office."""

    id: int
    name: str
    email: str
    role: str
    role_label: str
    active: bool
    on_call: bool = Field(description="Told of urgent conversations at any hour, not only in office hours.")
    alerts_linked: bool
    must_change_password: bool


class NewAccount(Out):
    """An account just made, or given a new one-time password."""

    officer: OfficerOut
    one_time_password: str = Field(description="Shown once: hand it over in person.")


class LinkCode(Out):
    """A code that links a chat for alerts of new conversations."""

    code: str
    expires_at: datetime
    command: str = Field(description="What to send the bot to link the chat.")
    link: str | None = Field(description="A link that opens the bot with the code, where known.")


class Hours(Out):
    """The office's opening hours."""

    hours: list[str]
    text: str


class Count(Out):
    """One row of a figure: what, and how many."""

    label: str
    count: int


class Week(Out):
    """One week (from its Monday) of conversations and reports."""

    monday: str
    conversations: int
    reports: int


class OfficeFigures(Out):
    """One office's share of the figures, and its waiting backlog now."""

    office: OfficeRef
    conversations: int
    reports: int
    waiting: int


class Figures(Out):
    """An office's or a prefecture's work in numbers, over the last weeks."""

    offices: list[OfficeRef]
    weeks: int
    since: str
    conversations: int
    reports: int
    conversations_by_commune: list[Count]
    conversations_by_intent: list[Count]
    reports_by_category: list[Count]
    reports_by_commune: list[Count]
    reports_by_sector: list[Count]
    by_week: list[Week]
    by_office: list[OfficeFigures]
    answered: int
    median_first_response_minutes: float | None
    waiting: int
    urgent_waiting: int
    open: int
    oldest_waiting_since: str | None


class Done(Out):
    """The action was done."""

    ok: bool = True


class Error(Out):
    """Why a request was refused; nothing changed."""

    error: str = Field(description="What went wrong, for the officer to read.")
    code: str = Field(description="A stable key: empty_reply, not_found, read_only…")
