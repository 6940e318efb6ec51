"""Every table and its public schemas, grouped by entity."""

import datetime as dt
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.tally import Counts as TallyCounts
from app.tally import HeadlineFigure, PeopleFigure, headline_figure, people_figure, shown_percent
from app.tally import Percents as TallyPercents

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
TermsKind = Literal["original", "amendment"]
ReleaseKind = Literal["living", "remains"]
Qualifier = Literal["exact", "about", "at_least"]
ExchangeStatus = Literal["announced", "in_progress", "completed", "stalled"]
StageStatus = Literal["reported", "confirmed", "disputed"]
Role = Literal["editor", "admin"]

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SIDE_KEYS: tuple[SideKey, ...] = ("a", "b")
EXCHANGE_STATUSES: tuple[ExchangeStatus, ...] = ("announced", "in_progress", "completed", "stalled")
STAGE_STATUSES: tuple[StageStatus, ...] = ("reported", "confirmed", "disputed")
TERMS_KINDS: tuple[TermsKind, ...] = ("original", "amendment")
RELEASE_KINDS: tuple[ReleaseKind, ...] = ("living", "remains")
QUALIFIERS: tuple[Qualifier, ...] = ("exact", "about", "at_least")
ENTITIES = ("exchange", "stage", "terms", "official_total")


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


def _party_of_exchange(column: str, table: str) -> ForeignKeyConstraint:
    """`column` must name a party of the row's exchange (and follows it when a side is renamed
    to another party)."""
    return ForeignKeyConstraint(
        ["exchange_id", column],
        ["exchange_party.exchange_id", "exchange_party.party_id"],
        name=f"fk_{table}_{column}_exchange_party",
        onupdate="CASCADE",
    )


def _owned_by(table: str, parent: str, column: str) -> ForeignKeyConstraint:
    """The row's parent (`column`) belongs to the same exchange as the row says."""
    return ForeignKeyConstraint(
        [column, "exchange_id"],
        [f"{parent}.id", f"{parent}.exchange_id"],
        name=f"fk_{table}_{column}_{parent}",
        ondelete="CASCADE",
    )


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


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts in the current 15-minute window, per key (an account, a client address
    or a known device, SHA-256 hex so no email or header is too long for it). One row per key,
    raised by a single upsert before the password is checked, so no two workers both get in
    under the limit."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=64)
    attempts: int
    window_started_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


# ---- conflicts and parties ---------------------------------------------------------------


class Conflict(SQLModel, table=True):
    """A war or dispute whose parties exchange people: totals never cross conflicts."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=200)
    name_uk: str | None = Field(default=None, max_length=200)


class Party(SQLModel, table=True):
    """A state or armed group that holds and releases people; may take part in several conflicts."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=120, index=True)
    name_uk: str | None = Field(default=None, max_length=120)


# ---- exchanges ---------------------------------------------------------------------------


class Exchange(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(_one_of("status", EXCHANGE_STATUSES), name="status_known"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    conflict_id: int = Field(foreign_key="conflict.id", index=True)
    title: str = Field(max_length=300)
    title_uk: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", sa_type=Text, nullable=False)
    summary_uk: str | None = Field(default=None, sa_type=Text)
    status: str = Field(default="announced", max_length=16)
    agreed_on: dt.date | None = None
    venue: str | None = Field(default=None, max_length=300)
    mediators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published: bool = True
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExchangeParty(SQLModel, table=True):
    """A party of an exchange, in order: positions 0 and 1 are the first API's sides a and b."""

    __tablename__ = "exchange_party"
    __table_args__ = (
        UniqueConstraint("exchange_id", "party_id"),
        UniqueConstraint("exchange_id", "position"),
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint(
            "official_number IS NULL OR official_number > 0", name="official_number_positive"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    party_id: int = Field(foreign_key="party.id", index=True)
    position: int
    official_number: int | None = None  # "Ukraine's 65th exchange"


class Terms(SQLModel, table=True):
    """One version of what was agreed: the original deal, or an amendment from `effective` on."""

    __table_args__ = (
        CheckConstraint(_one_of("kind", TERMS_KINDS), name="kind_known"),
        CheckConstraint(
            "planned_stages IS NULL OR planned_stages > 0", name="planned_stages_positive"
        ),
        Index("ix_terms_exchange_id_effective", "exchange_id", "effective"),
        UniqueConstraint("id", "exchange_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    effective: dt.date | None = None  # null: in force from the start
    kind: str = Field(default="original", max_length=16)
    planned_stages: int | None = None
    note: str = Field(default="", sa_type=Text, nullable=False)


class TermsTarget(SQLModel, table=True):
    """What one party is to receive under a terms version; a null count is unknown."""

    __tablename__ = "terms_target"
    __table_args__ = (
        UniqueConstraint("terms_id", "received_by"),
        CheckConstraint(_one_of("qualifier", QUALIFIERS), name="qualifier_known"),
        *_non_negative("people", "military", "civilian", "remains"),
        _owned_by("terms_target", "terms", "terms_id"),
        _party_of_exchange("received_by", "terms_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int
    terms_id: int
    received_by: int
    people: int | None = None
    military: int | None = None
    civilian: int | None = None
    remains: int | None = None
    qualifier: str = Field(default="exact", max_length=16)


# ---- stages ------------------------------------------------------------------------------


class Stage(SQLModel, table=True):
    """One day or batch of an exchange. `status` is derived from its releases and sources on
    every write (stored so that the timeline can filter on it); editors only set
    `disputed_reason`."""

    __table_args__ = (
        CheckConstraint(_one_of("status", STAGE_STATUSES), name="status_known"),
        CheckConstraint("version > 0", name="version_positive"),
        Index("ix_stage_exchange_id_date", "exchange_id", "date"),
        Index("ix_stage_date_id", "date", "id"),
        # Lets a release name its stage and exchange together (see StageRelease).
        UniqueConstraint("id", "exchange_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    date: dt.date
    status: str = Field(default="reported", max_length=16)
    disputed_reason: str | None = Field(default=None, sa_type=Text)
    notes: str = Field(default="", sa_type=Text, nullable=False)
    published: bool = True
    version: int = 1
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deleted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


def _figure_checks() -> list[CheckConstraint]:
    """What a release or a claimed figure can never be: negative, a total below its parts,
    living people in a remains row or remains in a living one."""
    return [
        CheckConstraint(_one_of("kind", RELEASE_KINDS), name="kind_known"),
        CheckConstraint(_one_of("qualifier", QUALIFIERS), name="qualifier_known"),
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
        CheckConstraint(
            "kind = 'living' OR (military IS NULL AND civilian IS NULL AND people IS NULL)",
            name="remains_have_no_people",
        ),
        CheckConstraint("kind = 'remains' OR remains IS NULL", name="living_have_no_remains"),
    ]


class StageRelease(SQLModel, table=True):
    """What one party handed to another in a stage: living people or remains; a null count is
    undisclosed. `people` equals military + civilian when both are known, and keeps a reported
    total alone when the split was not disclosed."""

    __tablename__ = "stage_release"
    __table_args__ = (
        *_figure_checks(),
        CheckConstraint("released_by <> received_by", name="two_parties"),
        Index("ix_stage_release_stage_id", "stage_id"),
        _owned_by("stage_release", "stage", "stage_id"),
        _party_of_exchange("released_by", "stage_release"),
        _party_of_exchange("received_by", "stage_release"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int
    stage_id: int
    position: int = 0
    released_by: int
    received_by: int
    kind: str = Field(default="living", max_length=16)
    military: int | None = None
    civilian: int | None = None
    people: int | None = None
    remains: int | None = None
    qualifier: str = Field(default="exact", max_length=16)
    outside_deal: bool = False
    categories: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    date: dt.date | None = None  # when it happened on another day than its stage


# ---- sources -----------------------------------------------------------------------------


class Source(SQLModel, table=True):
    """Where a figure was reported: on a stage, a terms version, or the exchange itself."""

    __table_args__ = (
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_http"),
        Index("ix_source_exchange_id_stage_id", "exchange_id", "stage_id"),
        # Stage pages and the timeline's text search look sources up by stage.
        Index("ix_source_stage_id", "stage_id"),
        Index("ix_source_terms_id", "terms_id"),
        UniqueConstraint("id", "exchange_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int = Field(foreign_key="exchange.id", ondelete="CASCADE")
    stage_id: int | None = Field(default=None, foreign_key="stage.id", ondelete="CASCADE")
    terms_id: int | None = Field(default=None, foreign_key="terms.id", ondelete="CASCADE")
    position: int = 0
    url: str = Field(max_length=2000)
    publisher: str = Field(max_length=200)
    announcer: str | None = Field(default=None, max_length=200)
    # Whom the announcer speaks for: a party's slug, "independent" (a mediator, the ICRC), or
    # null (the press, or not known). Decides whether matching figures confirm a stage.
    speaks_for: str | None = Field(default=None, max_length=120)
    published_at: dt.date | None = None
    claim: str = Field(default="", sa_type=Text, nullable=False)


class SourceFigure(SQLModel, table=True):
    """A figure one source's announcer gave for one receiving party, in the release shape."""

    __tablename__ = "source_figure"
    __table_args__ = (
        *_figure_checks(),
        Index("ix_source_figure_source_id", "source_id"),
        _owned_by("source_figure", "source", "source_id"),
        _party_of_exchange("received_by", "source_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exchange_id: int
    source_id: int
    received_by: int
    kind: str = Field(default="living", max_length=16)
    military: int | None = None
    civilian: int | None = None
    people: int | None = None
    remains: int | None = None
    qualifier: str = Field(default="exact", max_length=16)


class OfficialTotal(SQLModel, table=True):
    """A running total a party publishes ("8,050 returned"): coverage beside our own sums."""

    __tablename__ = "official_total"
    __table_args__ = (
        CheckConstraint(_one_of("qualifier", QUALIFIERS), name="qualifier_known"),
        CheckConstraint(_one_of("measure", ("people", "remains")), name="measure_known"),
        CheckConstraint("figure >= 0", name="figure_non_negative"),
        CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name="url_http"),
        Index("ix_official_total_conflict_id_party_id_as_of", "conflict_id", "party_id", "as_of"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conflict_id: int = Field(foreign_key="conflict.id", ondelete="CASCADE")
    party_id: int = Field(foreign_key="party.id")
    as_of: dt.date
    measure: str = Field(default="people", max_length=16)
    figure: int
    qualifier: str = Field(default="exact", max_length=16)
    note: str = Field(default="", sa_type=Text, nullable=False)
    url: str = Field(max_length=2000)
    publisher: str = Field(max_length=200)
    announcer: str | None = Field(default=None, max_length=200)
    published_at: dt.date | None = None
    claim: str = Field(default="", sa_type=Text, nullable=False)


# ---- history -----------------------------------------------------------------------------


class Revision(SQLModel, table=True):
    """One create, change, publish or delete of an exchange or stage, with before and after."""

    __table_args__ = (
        CheckConstraint(_one_of("entity", ENTITIES), name="entity_known"),
        CheckConstraint(
            _one_of("action", ("create", "update", "publish", "delete")), name="action_known"
        ),
        Index("ix_revision_entity_entity_id", "entity", "entity_id"),
        Index("ix_revision_entity_entity_id_version", "entity", "entity_id", "version"),
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
    # Decided once, when written: it changed a counted figure of a published stage or a target
    # of published terms. Pages, widgets, images and feeds read it; none decides again.
    is_correction: bool = False
    # The stage's version once this was written: a save based on it can be merged with what
    # was saved since (writes.merge_stage). None on exchanges' and on older revisions.
    version: int | None = None


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


class Percents(SQLModel):
    people: float | None = None
    military: float | None = None
    civilian: float | None = None
    remains: float | None = None


class ReturnedPeople(SQLModel):
    returned: Counts
    undisclosed: bool

    @property
    def figure(self) -> PeopleFigure:
        """Its people as pages, widgets and images word them (tally.people_figure)."""
        return people_figure(self.returned.people, self.undisclosed)


class SidePublic(ReturnedPeople):
    """The first API's view of a party: the first two parties of an exchange as `a` and `b`."""

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


class ConflictPublic(SQLModel):
    slug: str
    name: str


class PartyPublic(SQLModel):
    slug: str
    name: str
    name_uk: str | None = None
    official_number: int | None = None


class FigurePublic(SQLModel):
    """Figures in the release shape: what was counted, or what one announcer said."""

    received_by: str
    kind: ReleaseKind
    military: int | None
    civilian: int | None
    people: int | None
    remains: int | None
    qualifier: Qualifier


class ReleasePublic(FigurePublic):
    released_by: str
    outside_deal: bool
    categories: dict[str, int]
    date: dt.date | None


class SourcePublic(SQLModel):
    url: str
    publisher: str
    announcer: str | None = None
    speaks_for: str | None = None
    published_at: dt.date | None
    claim: str
    figures: list[FigurePublic] = Field(default_factory=list)


class TargetPublic(SQLModel):
    received_by: str
    people: int | None
    military: int | None
    civilian: int | None
    remains: int | None
    qualifier: Qualifier = "exact"


class TermsPublic(SQLModel):
    effective: dt.date | None
    kind: TermsKind
    planned_stages: int | None
    note: str
    targets: list[TargetPublic]
    sources: list[SourcePublic]


class OutsideDeal(SQLModel):
    people: int
    remains: int


class MeasureRange(SQLModel):
    min: int
    max: int


class PartyTallyPublic(SQLModel):
    """One receiving party's tally as of a day, against the terms in force (tally.PartyTally)."""

    received_by: str
    name: str
    name_uk: str | None = None
    headline: Literal["people", "remains"]
    # Over every counted release (PRODUCT.md "Tally"); `qualifiers` over the releases of each
    # headline measure alone (living, remains), which its headline figure reads.
    qualifier: Qualifier
    qualifiers: dict[Literal["people", "remains"], Qualifier] = Field(default_factory=dict)
    people: int | None
    military: int | None
    civilian: int | None
    remains: int | None
    outside_deal: OutsideDeal
    target: Counts
    percent: Percents
    remaining: Counts
    range: dict[str, MeasureRange] | None
    disputed: bool
    undisclosed: bool

    @property
    def figure(self) -> HeadlineFigure:
        """Its headline figure as pages, widgets, images and feeds word it."""
        return headline_figure(
            self.headline,
            TallyCounts(self.people, self.military, self.civilian, self.remains),
            undisclosed=self.undisclosed,
            qualifier=self.qualifiers.get(self.headline, self.qualifier),
            target=TallyCounts(**self.target.model_dump()),
            percent=TallyPercents(**self.percent.model_dump()),
        )


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
    disputed_reason: str | None = None
    published: bool
    version: int
    notes: str
    releases: list[ReleasePublic] = Field(default_factory=list)
    sides: list[StageSidePublic]
    sources: list[SourcePublic]
    updated_at: dt.datetime


class ExchangePublic(SQLModel):
    slug: str
    title: str
    title_uk: str | None = None
    description: str
    summary: str = ""
    summary_uk: str | None = None
    status: ExchangeStatus
    agreed_on: dt.date | None
    venue: str | None
    mediators: list[str]
    planned_stages: int | None
    stages_count: int
    first_stage_on: dt.date | None = None  # the first counted stage's date
    conflict: ConflictPublic | None = None
    parties: list[PartyPublic] = Field(default_factory=list)
    terms: list[TermsPublic] = Field(default_factory=list)
    tally: list[PartyTallyPublic] = Field(default_factory=list)
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


class OfficialTotalPublic(SQLModel):
    people: int
    measure: Literal["people", "remains"] = "people"
    qualifier: Qualifier
    as_of: dt.date
    note: str = ""
    source: SourcePublic


class TotalsParty(SQLModel):
    slug: str
    name: str
    name_uk: str | None = None
    people: int | None
    military: int | None
    civilian: int | None
    remains: int | None
    qualifier: Qualifier
    undisclosed: bool
    outside_deal: OutsideDeal
    exchanges_count: int
    official: OfficialTotalPublic | None

    @property
    def figure(self) -> PeopleFigure:
        """Its people as the dashboard words them: "at least" where any part is a floor."""
        return people_figure(self.people, self.undisclosed or self.qualifier == "at_least")


class TotalsConflict(SQLModel):
    slug: str
    name: str
    name_uk: str | None = None
    parties: list[TotalsParty]


class TotalsPublic(SQLModel):
    conflicts: list[TotalsConflict] = Field(default_factory=list)
    sides: list[TotalsSide]


# ---- write schemas -----------------------------------------------------------------------

MAX_COUNT = 100_000  # more than this in one release or claim is not plausible
MAX_STORED_INT = 2**31 - 1  # PostgreSQL's integer: an id or count past it cannot be stored
EARLIEST_DATE = dt.date(2014, 1, 1)  # the swaps tracked here start in 2014
PLANNED_AHEAD = dt.timedelta(days=366)  # terms may take effect up to a year from now
# How many of one thing a write may list: more is not an exchange, it is an attack (and the
# editor's forms show at most this many rows of one kind).
MAX_ITEMS = 50
MAX_MEDIATORS = 20
MAX_CATEGORIES = 20
MAX_STAGES = 1000  # an exchange's stages, given with it
# Text no column should hold: NUL (PostgreSQL refuses it, and the export and import lose it),
# other control characters and lone surrogates (UTF-8 cannot encode them). Multi-line text
# keeps tab, line feed and carriage return.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MULTI_LINE_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def latest_plausible_date() -> dt.date:
    """A stage can be entered for tomorrow at the latest (time zones), never later."""
    return utcnow().date() + dt.timedelta(days=1)


def _plausible_day(day: dt.date | None) -> dt.date | None:
    if day is None:
        return day
    if day < EARLIEST_DATE:
        raise ValueError("swaps tracked here start in 2014")
    if day > latest_plausible_date():
        raise ValueError("cannot be later than tomorrow")
    return day


def _plausible_plan(day: dt.date | None) -> dt.date | None:
    """A day the deal's terms take effect: like any other, but it may be planned ahead."""
    if day is None:
        return day
    if day < EARLIEST_DATE:
        raise ValueError("swaps tracked here start in 2014")
    if day > utcnow().date() + PLANNED_AHEAD:
        raise ValueError("cannot be more than a year ahead")
    return day


def character_problem(text: str, *, multi_line: bool = False) -> str | None:
    """What makes `text` unfit to store, if anything: the rule for every text field, of the
    write schemas below and of the account forms alike."""
    if "\x00" in text:
        return "cannot contain NUL characters"
    if (MULTI_LINE_CONTROL_CHARACTERS if multi_line else CONTROL_CHARACTERS).search(text):
        return "cannot contain control characters"
    return None


# Fields whose text may span lines (tab, line feed and carriage return are kept, or become
# spaces where the field says so); every other text field is one line.
MULTI_LINE_FIELDS = frozenset(
    {"notes", "disputed_reason", "description", "summary", "summary_uk", "note", "reason"}
    | {"publisher", "announcer", "speaks_for", "claim"}
)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    if isinstance(value, dict):
        return [key for key in value if isinstance(key, str)]
    return []


def _one_line(text: str) -> str:
    if (problem := character_problem(text)) is not None:
        raise PydanticCustomError("invalid_character", problem)
    return text


# A list's text items and a dict's keys are checked one by one, so that an error names its item.
TextItem = Annotated[str, AfterValidator(_one_line)]


class WriteSchema(SQLModel):
    """What every write schema checks of its text: no character a column cannot hold
    (`character_problem`), in each field, its list items and its keys. Checked after the
    field's own type and length, so that their messages stay pydantic's."""

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "url":
            return value  # SourceCreate checks its own, after the scheme
        multi_line = info.field_name in MULTI_LINE_FIELDS
        for text in _texts(value):
            if (problem := character_problem(text, multi_line=multi_line)) is not None:
                raise PydanticCustomError("invalid_character", problem)
        return value


# Strict: JSON's true, 1.5 or "5" is no count (pydantic would store true as 1).
Whole = Annotated[int, Strict()]
Count = Whole | None
PlausibleDay = Annotated[dt.date, AfterValidator(_plausible_day)]
PlannedDay = Annotated[dt.date, AfterValidator(_plausible_plan)]
Mediator = Annotated[TextItem, StringConstraints(min_length=1, max_length=200)]


def _people_sum(people: int | None, info: ValidationInfo) -> int | None:
    """People, checked on the field (so that a 422 names it) against the parts given."""
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


class FigureIn(WriteSchema):
    """Figures in the release shape, with every rule a count must keep (one place for all)."""

    received_by: str = Field(min_length=1, max_length=120)
    kind: ReleaseKind = "living"
    military: Count = Field(default=None, ge=0, le=MAX_COUNT)
    civilian: Count = Field(default=None, ge=0, le=MAX_COUNT)
    people: Count = Field(default=None, ge=0, le=MAX_COUNT)
    # Checked even when left out: a remains row with living people must name this field.
    remains: Count = Field(
        default=None, ge=0, le=MAX_COUNT, schema_extra={"validate_default": True}
    )
    qualifier: Qualifier = "exact"

    @field_validator("people")
    @classmethod
    def _people_is_the_sum(cls, people: int | None, info: ValidationInfo) -> int | None:
        return _people_sum(people, info)

    @field_validator("remains")
    @classmethod
    def _kind_fits(cls, remains: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        living = [info.data.get(name) for name in ("military", "civilian", "people")]
        if kind == "remains" and any(value is not None for value in living):
            raise ValueError("remains are counted in `remains`; living people in a living row")
        if kind == "living" and remains is not None:
            raise ValueError("a living row has no remains: give them a row of kind remains")
        return remains

    @model_validator(mode="after")
    def _people_from_parts(self) -> "FigureIn":
        if self.people is None and self.military is not None and self.civilian is not None:
            self.people = self.military + self.civilian
        return self


class ReleaseIn(FigureIn):
    released_by: str = Field(min_length=1, max_length=120)
    outside_deal: bool = False
    categories: dict[TextItem, Whole] = Field(default_factory=dict)
    date: PlausibleDay | None = None

    @field_validator("categories", mode="before")
    @classmethod
    def _few_categories(cls, categories: Any) -> Any:
        """Counted before each is read: twenty thousand are refused without reading them."""
        if isinstance(categories, dict) and len(categories) > MAX_CATEGORIES:
            raise ValueError(f"at most {MAX_CATEGORIES} categories")
        return categories

    @field_validator("categories")
    @classmethod
    def _categories_counts(cls, categories: dict[str, int]) -> dict[str, int]:
        for name, value in categories.items():
            if not 0 < len(name) <= 60:
                raise ValueError("a category name has 1 to 60 characters")
            if ";" in name:  # the CSV export separates categories with it
                raise ValueError("a category name cannot contain ';'")
            if not 0 <= value <= MAX_COUNT:
                raise ValueError(f"category {name!r} must be from 0 to {MAX_COUNT}")
        return categories

    @model_validator(mode="after")
    def _consistent(self) -> "ReleaseIn":
        if self.released_by == self.received_by:
            raise ValueError("a party cannot release people to itself")
        total = self.remains if self.kind == "remains" else self.people
        for name, value in self.categories.items():
            if total is not None and value > total:
                raise ValueError(f"category {name!r} ({value}) is more than the total ({total})")
        return self


class SourceCreate(WriteSchema):
    url: str = Field(max_length=2000)
    # Line breaks are allowed here, and become spaces (below).
    publisher: str = Field(min_length=1, max_length=200)
    announcer: str | None = Field(default=None, max_length=200)
    speaks_for: str | None = Field(default=None, max_length=120)
    published_at: PlausibleDay | None = None
    claim: str = Field(default="", max_length=2000)
    figures: list[FigureIn] = Field(default_factory=list, max_length=MAX_ITEMS)

    @field_validator("url", mode="before")
    @classmethod
    def _trimmed(cls, url: Any) -> Any:
        return url.strip() if isinstance(url, str) else url

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        """Only http(s); the scheme is stored in lower case ("HTTPS://x" becomes "https://x").
        No whitespace inside: the CSV export lists a stage's URLs separated by spaces."""
        parts = urlsplit(url)
        scheme = parts.scheme  # urlsplit lowercases it, and drops characters browsers ignore
        # The address must start with that scheme as typed: "\x01java\tscript:" never sneaks in.
        literal = url[: len(scheme)].lower() == scheme
        if scheme not in ("http", "https") or not parts.netloc or not literal:
            raise ValueError("must be an http:// or https:// address")
        if any(character.isspace() for character in url):
            raise ValueError("an address cannot contain spaces or line breaks")
        if (problem := character_problem(url)) is not None:
            raise PydanticCustomError("invalid_character", problem)
        return scheme + url[len(scheme) :]

    @field_validator("publisher", "announcer", "speaks_for")
    @classmethod
    def _not_a_list(cls, text: str | None) -> str | None:
        """The CSV export lists a stage's publishers, announcers and whom they speak for
        separated by "; ": one inside a value would split it on import."""
        if text is not None and "; " in " ".join(text.split()):
            raise ValueError("cannot contain '; ' (the CSV export separates sources with it)")
        return text

    @field_validator("publisher", "claim")
    @classmethod
    def _one_line(cls, text: str) -> str:
        """Whitespace runs, line breaks included, become one space: the CSV export lists a
        stage's claims one per line, so a line break inside a claim would split it in two."""
        return " ".join(text.split())

    @field_validator("announcer", "speaks_for")
    @classmethod
    def _optional_line(cls, text: str | None) -> str | None:
        return " ".join(text.split()) or None if text is not None else None


class StageSideCreate(WriteSchema):
    """The first API's stage side: what side `key` received (its figures become a release)."""

    key: SideKey
    military: Count = Field(default=None, ge=0, le=MAX_COUNT)
    civilian: Count = Field(default=None, ge=0, le=MAX_COUNT)
    people: Count = Field(default=None, ge=0, le=MAX_COUNT)
    remains: Count = Field(default=None, ge=0, le=MAX_COUNT)

    @field_validator("people")
    @classmethod
    def _people_is_the_sum(cls, people: int | None, info: ValidationInfo) -> int | None:
        return _people_sum(people, info)

    @model_validator(mode="after")
    def _people_from_parts(self) -> "StageSideCreate":
        if self.people is None and self.military is not None and self.civilian is not None:
            self.people = self.military + self.civilian
        return self


class StageCreate(WriteSchema):
    """A stage, from the form, the CSV importer and the JSON API alike: `releases`, or the first
    API's `sides` for a two-party exchange. A `status` of disputed marks it disputed by hand; the
    others are ignored, since status is derived."""

    date: PlausibleDay
    status: StageStatus | None = None
    disputed_reason: str | None = Field(default=None, max_length=2000)
    notes: str = Field(default="", max_length=10000)
    published: bool = True
    releases: list[ReleaseIn] | None = Field(default=None, max_length=MAX_ITEMS)
    # Validated even when left out, so that a stage with neither shape names the field.
    sides: list[StageSideCreate] | None = Field(
        default=None, schema_extra={"validate_default": True}
    )
    # Validated even when left out, so that a published stage without sources names the field.
    sources: list[SourceCreate] = Field(
        default_factory=list, max_length=MAX_ITEMS, schema_extra={"validate_default": True}
    )

    @field_validator("sides")
    @classmethod
    def _both_sides(
        cls, sides: list[StageSideCreate] | None, info: ValidationInfo
    ) -> list[StageSideCreate] | None:
        given = "releases" in info.data and info.data["releases"] is not None
        if sides is not None and given:
            raise ValueError("give `releases` or the first API's `sides`, not both")
        if sides is None and not given and "releases" in info.data:
            raise ValueError("a stage needs its `releases` (or the first API's `sides`)")
        if sides is not None and sorted(side.key for side in sides) != list(SIDE_KEYS):
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

    @model_validator(mode="after")
    def _marked_disputed(self) -> "StageCreate":
        if self.status == "disputed" and not self.disputed_reason:
            self.disputed_reason = MARKED_DISPUTED
        if self.disputed_reason is not None:
            self.disputed_reason = self.disputed_reason.strip() or None
        return self


MARKED_DISPUTED = "Marked disputed by an editor"


MAX_TARGET = 10 * MAX_COUNT  # what a whole deal may promise one party


class TargetCounts(WriteSchema):
    """A target's counts, in a terms version or on the first API's side; null is unknown."""

    people: Count = Field(default=None, ge=0, le=MAX_TARGET)
    military: Count = Field(default=None, ge=0, le=MAX_TARGET)
    civilian: Count = Field(default=None, ge=0, le=MAX_TARGET)
    remains: Count = Field(default=None, ge=0, le=MAX_TARGET)


class ExchangeSideCreate(WriteSchema):
    key: SideKey
    name: str = Field(min_length=1, max_length=120)
    target: TargetCounts = Field(default_factory=TargetCounts)


class ConflictIn(WriteSchema):
    slug: str = Field(min_length=1, max_length=120)
    name: str = Field(min_length=1, max_length=200)
    name_uk: str | None = Field(default=None, max_length=200)


class PartyIn(WriteSchema):
    slug: str = Field(min_length=1, max_length=120)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    name_uk: str | None = Field(default=None, max_length=120)
    official_number: Whole | None = Field(default=None, gt=0, le=MAX_COUNT)


class TargetIn(TargetCounts):
    received_by: str = Field(min_length=1, max_length=120)
    qualifier: Qualifier = "exact"


MAX_PLANNED_STAGES = 1000


class TermsIn(WriteSchema):
    effective: PlannedDay | None = None
    kind: TermsKind = "original"
    planned_stages: Whole | None = Field(default=None, gt=0, le=MAX_PLANNED_STAGES)
    note: str = Field(default="", max_length=10000)
    targets: list[TargetIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    sources: list[SourceCreate] = Field(default_factory=list, max_length=MAX_ITEMS)

    @field_validator("targets")
    @classmethod
    def _one_per_party(cls, targets: list[TargetIn]) -> list[TargetIn]:
        parties = [target.received_by for target in targets]
        if len(set(parties)) != len(parties):
            raise ValueError("one target per receiving party")
        return targets


class ExchangeCreate(WriteSchema):
    """An exchange in the v2 shape (`conflict`, `parties`, `terms`), or the first API's (`sides`
    a and b with names and targets, `planned_stages`): both are stored the same way."""

    slug: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=300)
    title_uk: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=20000)
    summary: str | None = Field(default=None, max_length=20000)
    summary_uk: str | None = Field(default=None, max_length=20000)
    status: ExchangeStatus = "announced"
    agreed_on: PlausibleDay | None = None
    venue: str | None = Field(default=None, max_length=300)
    mediators: list[Mediator] = Field(default_factory=list, max_length=MAX_MEDIATORS)
    planned_stages: Whole | None = Field(default=None, gt=0, le=MAX_PLANNED_STAGES)
    published: bool = True
    conflict: ConflictIn | None = None
    parties: list[PartyIn] | None = Field(default=None, max_length=MAX_ITEMS)
    terms: list[TermsIn] | None = Field(default=None, max_length=MAX_ITEMS)
    sides: list[ExchangeSideCreate] | None = None
    sources: list[SourceCreate] = Field(default_factory=list, max_length=MAX_ITEMS)
    stages: list[StageCreate] = Field(default_factory=list, max_length=MAX_STAGES)

    @field_validator("slug")
    @classmethod
    def _slug_is_url_safe(cls, slug: str) -> str:
        if not SLUG_PATTERN.fullmatch(slug):
            raise ValueError("slug: use lowercase letters, digits and single hyphens")
        return slug

    @field_validator("sides")
    @classmethod
    def _two_sides(cls, sides: list[ExchangeSideCreate] | None) -> list[ExchangeSideCreate] | None:
        if sides is not None and sorted(side.key for side in sides) != list(SIDE_KEYS):
            raise ValueError("sides must list side 'a' and side 'b' once each")
        return sides

    @field_validator("parties")
    @classmethod
    def _two_or_more(cls, parties: list[PartyIn] | None) -> list[PartyIn] | None:
        if parties is None:
            return parties
        if len(parties) < 2:
            raise ValueError("an exchange has at least two parties")
        slugs = [party.slug for party in parties]
        if len(set(slugs)) != len(slugs):
            raise ValueError("each party once")
        for slug in slugs:
            if not SLUG_PATTERN.fullmatch(slug):
                raise ValueError("party slug: use lowercase letters, digits and single hyphens")
        return parties

    @model_validator(mode="after")
    def _one_shape(self) -> "ExchangeCreate":
        if self.parties is not None and self.sides is not None:
            raise ValueError("give `parties` (and `terms`) or the first API's `sides`, not both")
        if self.parties is None and self.sides is None:
            self.sides = [
                ExchangeSideCreate(key="a", name="Ukraine"),
                ExchangeSideCreate(key="b", name="Russia"),
            ]
        if self.summary is not None:
            self.description = self.summary
        self.summary = None
        return self


# ---- write API schemas -------------------------------------------------------------------
# The JSON API's bodies: the write schemas above plus the editor's `reason`, with every rule
# checked on the field it concerns (so that a 422 names it).

REASON_MAX_LENGTH = 2000


class WriteBody(WriteSchema):
    """What every write body adds: the editor's reason, which readers see on a correction."""

    reason: str | None = Field(
        default=None,
        max_length=REASON_MAX_LENGTH,
        description="Why; required when a published figure changes (shown as a correction)",
    )


class StageWrite(WriteBody, StageCreate):
    """A stage as POST /api/v1/exchanges/{slug}/stages takes it, and as a PATCH must leave it."""


class ExchangeWrite(WriteBody, ExchangeCreate):
    """An exchange as POST /api/v1/exchanges takes it, and as a PATCH must leave it."""


class TermsWrite(WriteBody, TermsIn):
    """A terms version as POST /api/v1/exchanges/{slug}/terms takes it."""


class OfficialTotalWrite(WriteBody):
    """A running total as POST /api/v1/conflicts/{slug}/official-totals takes it."""

    party: str = Field(min_length=1, max_length=120)
    as_of: PlausibleDay
    measure: Literal["people", "remains"] = "people"
    people: Whole = Field(ge=0, le=10_000_000)
    qualifier: Qualifier = "exact"
    note: str = Field(default="", max_length=2000)
    source: SourceCreate


class StaleVersion(SQLModel):
    """Why a change was refused with 412: what is stored now, to merge with and send again."""

    message: str
    etag: str
    version: int
    current: dict[str, Any]
    # A stage's fields changed both by this request and, differently, since If-Match's version.
    clashes: list[str] = Field(default_factory=list)


class StaleVersionError(SQLModel):
    detail: StaleVersion
