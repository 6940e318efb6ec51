"""Every table and its public schemas, grouped by entity."""

import datetime as dt
import re
from collections import deque
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.tally import PeopleFigure, people_figure, shown_percent

# Named constraints make migrations reviewable and let batch mode drop them on SQLite.
# Set before any table is declared: the convention applies at declaration time.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SideKey = Literal["a", "b"]
ExchangeStatus = Literal["announced", "in_progress", "completed", "stalled"]
StageStatus = Literal["reported", "confirmed", "disputed"]
Role = Literal["editor", "admin"]

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SIDE_KEYS: tuple[SideKey, ...] = ("a", "b")
EXCHANGE_STATUSES: tuple[ExchangeStatus, ...] = ("announced", "in_progress", "completed", "stalled")
STAGE_STATUSES: tuple[StageStatus, ...] = ("reported", "confirmed", "disputed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self,
        value: dt.datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self,
        value: dt.datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_non_negative") for c in columns]


# ---- users -------------------------------------------------------------------------------


class User(SQLModel, table=True):
    __table_args__ = (CheckConstraint(_one_of("role", ("editor", "admin")), name="role_known"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    is_active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the token; only its hash is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ApiToken(SQLModel, table=True):
    """A personal API token: shown once, stored hashed, revocable."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in, counted per account and per client address across all workers."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# ---- exchanges ---------------------------------------------------------------------------


class Exchange(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_one_of("status", EXCHANGE_STATUSES), name="status_known"),
        CheckConstraint(
            "planned_stages IS NULL OR planned_stages > 0", name="planned_stages_positive"
        ),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text, nullable=False)
    status: str = Field(default="announced", max_length=16)
    agreed_on: dt.date | None = None
    venue: str | None = Field(default=None, max_length=300)
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    planned_stages: int | None = None
    published: bool = True
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExchangeSide(SQLModel, table=True):
    """One party of an exchange: its name and what it was promised (targets)."""

    __tablename__ = "exchange_side"
    __table_args__ = (
        UniqueConstraint("exchange_id", "key"),
        CheckConstraint(_one_of("key", SIDE_KEYS), name="key_known"),
        *_non_negative("target_people", "target_military", "target_civilian", "target_remains"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    key: str = Field(max_length=1)
    name: str = Field(max_length=120, index=True)
    target_people: int | None = None
    target_military: int | None = None
    target_civilian: int | None = None
    target_remains: int | None = None


# ---- stages ------------------------------------------------------------------------------


class Stage(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_one_of("status", STAGE_STATUSES), name="status_known"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_stage_exchange_id_date", "exchange_id", "date"),
        Index("ix_stage_date_id", "date", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    date: dt.date
    status: str = Field(default="reported", max_length=16)
    notes: str = Field(default="", sa_type=Text, nullable=False)
    published: bool = True
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class StageSide(SQLModel, table=True):
    """What one stage returned to one side; a null count is undisclosed.

    `people` is stored when known: it equals military + civilian when both are known, and keeps a
    reported total when the split was not disclosed ("215 returned", no breakdown).
    """

    __tablename__ = "stage_side"
    __table_args__ = (
        UniqueConstraint("stage_id", "key"),
        CheckConstraint(_one_of("key", SIDE_KEYS), name="key_known"),
        *_non_negative("military", "civilian", "people", "remains"),
        CheckConstraint(
            "people IS NULL OR military IS NULL OR civilian IS NULL"
            " OR people = military + civilian",
            name="people_is_sum",
        ),
        CheckConstraint(
            "people IS NULL OR people >= COALESCE(military, 0) + COALESCE(civilian, 0)",
            name="people_covers_parts",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(foreign_key="stage.id", ondelete="CASCADE")
    key: str = Field(max_length=1)
    military: int | None = None
    civilian: int | None = None
    people: int | None = None
    remains: int | None = None


# ---- sources -----------------------------------------------------------------------------


class Source(SQLModel, table=True):
    """Where a figure was reported: on a stage, or on the exchange itself when stage_id is null."""

    __table_args__ = (
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_http"),
        Index("ix_source_exchange_id_stage_id", "exchange_id", "stage_id"),
        # Stage pages and the timeline's text search look sources up by stage.
        Index("ix_source_stage_id", "stage_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    stage_id: int | None = Field(default=None, foreign_key="stage.id", ondelete="CASCADE")
    position: int = 0
    url: str = Field(max_length=2000)
    publisher: str = Field(max_length=200)
    published_at: dt.date | None = None
    claim: str = Field(default="", sa_type=Text, nullable=False)


# ---- history -----------------------------------------------------------------------------


class Revision(SQLModel, table=True):
    """One create, change, publish or delete of an exchange or stage, with before and after."""

    __table_args__ = (
        CheckConstraint(_one_of("entity", ("exchange", "stage")), name="entity_known"),
        CheckConstraint(
            _one_of("action", ("create", "update", "publish", "delete")), name="action_known"
        ),
        Index("ix_revision_entity_entity_id", "entity", "entity_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=16)
    entity_id: int
    action: str = Field(max_length=16)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor: str = Field(max_length=320)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, sa_type=Text)


class DataRevision(SQLModel, table=True):
    """One row counting changes to public data, moved on by database triggers on every write
    (app/data_revision.py): caches compare it to know whether what they hold is still true."""

    __tablename__ = "data_revision"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    value: int = 0


# ---- public schemas ----------------------------------------------------------------------


class Counts(SQLModel):
    people: int | None = None
    military: int | None = None
    civilian: int | None = None
    remains: int | None = None


class ReturnedPeople(SQLModel):
    returned: Counts
    undisclosed: bool

    @property
    def figure(self) -> PeopleFigure:
        """Its people as pages, widgets and images word them (tally.people_figure)."""
        return people_figure(self.returned.people, self.undisclosed)


class SidePublic(ReturnedPeople):
    key: SideKey
    name: str
    target: Counts
    returned: Counts
    percent: float | None
    remaining: int | None
    undisclosed: bool

    @property
    def shown_percent(self) -> float | None:
        """The percent as pages show it (tally.shown_percent)."""
        return shown_percent(self.percent, self.figure)


class SourcePublic(SQLModel):
    url: str
    publisher: str
    published_at: dt.date | None
    claim: str


class StageSidePublic(SQLModel):
    key: SideKey
    military: int | None
    civilian: int | None
    people: int | None
    remains: int | None


class StagePublic(SQLModel):
    id: int
    exchange: str
    date: dt.date
    status: StageStatus
    published: bool
    version: int
    notes: str
    sides: list[StageSidePublic]
    sources: list[SourcePublic]
    updated_at: dt.datetime


class ExchangePublic(SQLModel):
    slug: str
    title: str
    description: str
    status: ExchangeStatus
    agreed_on: dt.date | None
    venue: str | None
    mediators: list[str]
    planned_stages: int | None
    stages_count: int
    sides: list[SidePublic]
    version: int
    updated_at: dt.datetime


class ExchangeDetail(ExchangePublic):
    sources: list[SourcePublic]
    stages: list[StagePublic]


class TotalsSide(ReturnedPeople):
    name: str
    returned: Counts
    undisclosed: bool
    exchanges_count: int


class TotalsPublic(SQLModel):
    sides: list[TotalsSide]


# ---- write schemas -----------------------------------------------------------------------


class SourceCreate(SQLModel):
    url: str = Field(max_length=2000)
    publisher: str = Field(min_length=1, max_length=200)
    published_at: dt.date | None = None
    claim: str = Field(default="", max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        """Only http(s); the scheme is stored in lower case ("HTTPS://x" becomes "https://x")."""
        url = url.strip()
        parts = urlsplit(url)
        scheme = parts.scheme  # urlsplit lowercases it, and drops characters browsers ignore
        # The address must start with that scheme as typed: "\x01java\tscript:" never sneaks in.
        literal = url[: len(scheme)].lower() == scheme
        if scheme not in ("http", "https") or not parts.netloc or not literal:
            raise ValueError("must be an http:// or https:// address")
        return scheme + url[len(scheme) :]

    @field_validator("publisher", "claim")
    @classmethod
    def _one_line(cls, text: str) -> str:
        """Whitespace runs, line breaks included, become one space: the CSV export lists a
        stage's claims one per line, so a line break inside a claim would split it in two."""
        return " ".join(text.split())


class StageSideCreate(SQLModel):
    key: SideKey
    military: int | None = Field(default=None, ge=0)
    civilian: int | None = Field(default=None, ge=0)
    people: int | None = Field(default=None, ge=0)
    remains: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _people_agrees_with_parts(self) -> "StageSideCreate":
        if self.military is not None and self.civilian is not None:
            parts = self.military + self.civilian
            if self.people is None:
                self.people = parts
            elif self.people != parts:
                raise ValueError(f"people ({self.people}) must equal military + civilian ({parts})")
        elif self.people is not None and self.people < (self.military or 0) + (self.civilian or 0):
            raise ValueError("people cannot be fewer than the military and civilian counts given")
        return self


class StageCreate(SQLModel):
    date: dt.date
    status: StageStatus = "reported"
    notes: str = Field(default="", max_length=10000)
    published: bool = True
    sides: list[StageSideCreate]
    sources: list[SourceCreate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> "StageCreate":
        if sorted(side.key for side in self.sides) != list(SIDE_KEYS):
            raise ValueError("sides must list side 'a' and side 'b' once each")
        if self.published and not self.sources:
            raise ValueError("a published stage needs at least one source")
        return self


class ExchangeSideCreate(SQLModel):
    key: SideKey
    name: str = Field(min_length=1, max_length=120)
    target: Counts = Field(default_factory=Counts)

    @field_validator("target")
    @classmethod
    def _targets_non_negative(cls, target: Counts) -> Counts:
        for name, value in target.model_dump().items():
            if value is not None and value < 0:
                raise ValueError(f"target {name} cannot be negative")
        return target


class ExchangeCreate(SQLModel):
    slug: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20000)
    status: ExchangeStatus = "announced"
    agreed_on: dt.date | None = None
    venue: str | None = Field(default=None, max_length=300)
    mediators: list[str] = Field(default_factory=list)
    planned_stages: int | None = Field(default=None, gt=0)
    published: bool = True
    sides: list[ExchangeSideCreate] = Field(
        default_factory=lambda: [
            ExchangeSideCreate(key="a", name="Ukraine"),
            ExchangeSideCreate(key="b", name="Russia"),
        ]
    )
    sources: list[SourceCreate] = Field(default_factory=list)
    stages: list[StageCreate] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug_is_url_safe(cls, slug: str) -> str:
        if not SLUG_PATTERN.fullmatch(slug):
            raise ValueError("slug: use lowercase letters, digits and single hyphens")
        return slug

    @field_validator("sides")
    @classmethod
    def _two_sides(cls, sides: list[ExchangeSideCreate]) -> list[ExchangeSideCreate]:
        if sorted(side.key for side in sides) != list(SIDE_KEYS):
            raise ValueError("sides must list side 'a' and side 'b' once each")
        return sides


# ---- write API schemas -------------------------------------------------------------------
# The JSON API's bodies: the write schemas above plus the editor's `reason`, with every rule
# checked on the field it concerns (so that a 422 names it), and values no column can hold
# (NUL characters, integers past PostgreSQL's range) refused as invalid input.

MAX_STORED_INT = 2**31 - 1
REASON_MAX_LENGTH = 2000


def _unstorable(value: Any) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return "cannot contain NUL characters"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_STORED_INT:
        return f"must be at most {MAX_STORED_INT}"
    return None


def refuse_unstorable(data: dict[str, Any]) -> None:
    """Raise a ValidationError naming each value in `data` that no database column can hold."""
    errors: list[InitErrorDetails] = []
    pending: deque[tuple[tuple[str | int, ...], Any]] = deque([((), data)])
    while pending:  # breadth first, without recursion: bodies may nest deeply
        loc, value = pending.popleft()
        if isinstance(value, dict):
            pending.extend(((*loc, str(key)), item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend(((*loc, index), item) for index, item in enumerate(value))
        elif (message := _unstorable(value)) is not None:
            error = PydanticCustomError("unstorable", message)
            errors.append({"type": error, "loc": loc, "input": value})
    if errors:
        raise ValidationError.from_exception_data("write body", errors)


class WriteBody(SQLModel):
    """What every write body adds: the editor's reason, which readers see on a correction."""

    reason: str | None = Field(
        default=None,
        max_length=REASON_MAX_LENGTH,
        description="Why; required when a published figure changes (shown as a correction)",
    )

    @model_validator(mode="after")
    def _storable(self) -> "WriteBody":
        refuse_unstorable(self.model_dump())
        return self


class StageSideFields(StageSideCreate):
    """StageSideCreate, its sum rule checked on `people`."""

    @field_validator("people")
    @classmethod
    def _people_is_the_sum(cls, people: int | None, info: ValidationInfo) -> int | None:
        military, civilian = info.data.get("military"), info.data.get("civilian")
        if people is None:
            return people
        if military is not None and civilian is not None and people != military + civilian:
            raise ValueError(
                f"people ({people}) must equal military + civilian ({military + civilian})"
            )
        if people < (military or 0) + (civilian or 0):
            raise ValueError("people cannot be fewer than the military and civilian counts given")
        return people


class StageFields(StageCreate):
    """StageCreate, its rules checked on `sides` and `sources`."""

    sides: list[StageSideFields]  # type: ignore[assignment]
    # Validated even when left out, so that a published stage without sources names the field.
    sources: list[SourceCreate] = Field(
        default_factory=list, schema_extra={"validate_default": True}
    )

    @field_validator("sides")
    @classmethod
    def _both_sides(cls, sides: list[StageSideFields]) -> list[StageSideFields]:
        if sorted(side.key for side in sides) != list(SIDE_KEYS):
            raise ValueError("sides must list side 'a' and side 'b' once each")
        return sides

    @field_validator("sources")
    @classmethod
    def _published_has_a_source(
        cls, sources: list[SourceCreate], info: ValidationInfo
    ) -> list[SourceCreate]:
        if info.data.get("published") and not sources:
            raise ValueError("a published stage needs at least one source")
        return sources


class StageWrite(WriteBody, StageFields):
    """A stage as POST /api/v1/exchanges/{slug}/stages takes it, and as a PATCH must leave it."""


class ExchangeWrite(WriteBody, ExchangeCreate):
    """An exchange as POST /api/v1/exchanges takes it, and as a PATCH must leave it."""

    stages: list[StageFields] = Field(default_factory=list)  # type: ignore[assignment]


class StaleVersion(SQLModel):
    """Why a change was refused with 412: what is stored now, to merge with and send again."""

    message: str
    etag: str
    version: int
    current: dict[str, Any]


class StaleVersionError(SQLModel):
    detail: StaleVersion
