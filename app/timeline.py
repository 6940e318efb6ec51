"""The timeline of published stages across exchanges: filters and keyset pages.

A page costs the same on 200 or 20,000 stages: rows come in (date, id) order from the
ix_stage_date_id index, and the next page starts after the last row seen instead of at an offset;
text (`q`) is found through the index of app/search.py.
"""

import datetime as dt
import re
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_
from sqlmodel import Session, col

from app import search
from app.crud import counted_stage, stage_publics, visible_exchange
from app.i18n import N_
from app.models import (
    SIDE_KEYS,
    STAGE_STATUSES,
    Exchange,
    ExchangeParty,
    Party,
    Stage,
    StagePublic,
    StageRelease,
)

BAD_PAGE = N_("not a page of this timeline; start from page 1")
BAD_DATE = N_("use a date like 2025-05-23")
BAD_STATUS = N_("choose one of reported, confirmed, disputed")
BAD_RANGE = N_("the end date is before the start date")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# A stage id in a cursor fits a signed 64-bit integer, or the database refuses the query (a 500).
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CURSOR_PATTERN = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})~([0-9]{1,18})")
MAX_CURSOR_ID = 2**63 - 1


class FilterError(ValueError):
    """A filter value that cannot be used; `field` names the query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Cursor:
    date: dt.date
    id: int

    def __str__(self) -> str:
        return f"{self.date.isoformat()}~{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        match = CURSOR_PATTERN.fullmatch(text)
        try:
            if match is None or not 0 <= int(match[2]) <= MAX_CURSOR_ID:
                raise ValueError(text)
            return cls(date=dt.date.fromisoformat(match[1]), id=int(match[2]))
        except ValueError:
            raise FilterError("page", BAD_PAGE) from None


@dataclass(frozen=True)
class TimelineFilters:
    exchange: str | None = None
    # What one party received: `party` by slug, `side` by name, slug or the first API's key (a,
    # b). Either keeps the stages in which that party received people, and only its figures.
    side: str | None = None
    party: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    status: str | None = None
    q: str | None = None
    page: Cursor | None = None

    @classmethod
    def from_query(cls, params: dict[str, str]) -> "TimelineFilters":
        """Read the query string: empty means no filter, text is taken leniently, a value of a
        documented form (a day, a status, a page token) exactly; bad values raise FilterError."""

        def text(name: str) -> str | None:
            # Control characters are never meaningful here, and PostgreSQL refuses NUL.
            value = search.CONTROL_CHARACTERS.sub("", params.get(name, "")).strip()
            return value or None

        def exact(name: str) -> str | None:
            return params.get(name) or None

        def day(name: str) -> dt.date | None:
            value = exact(name)
            if value is None:
                return None
            try:
                if not DAY_PATTERN.fullmatch(value):  # fromisoformat also reads 20250524
                    raise ValueError(value)
                return dt.date.fromisoformat(value)
            except ValueError:
                raise FilterError(name, BAD_DATE) from None

        status = exact("status")
        if status is not None and status not in STAGE_STATUSES:
            raise FilterError("status", BAD_STATUS)
        date_from, date_to = day("from"), day("to")
        if date_from and date_to and date_from > date_to:
            raise FilterError("to", BAD_RANGE)
        page = exact("page")
        return cls(
            exchange=text("exchange"),
            side=text("side"),
            party=text("party"),
            date_from=date_from,
            date_to=date_to,
            status=status,
            q=text("q"),
            page=Cursor.parse(page) if page else None,
        )

    def query_params(self, *, page: Cursor | None = None) -> dict[str, str]:
        """These filters as a query string (for permalinks and the next page)."""
        params = {
            "exchange": self.exchange,
            "side": self.side,
            "party": self.party,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "status": self.status,
            "q": self.q,
            "page": str(page) if page else None,
        }
        return {name: value for name, value in params.items() if value}


@dataclass(frozen=True)
class TimelinePage:
    stages: list[StagePublic]
    next: Cursor | None


def _receivers(filters: TimelineFilters) -> list[ColumnElement[bool]]:
    """Which of an exchange's parties (ExchangeParty joined to Party) the filters ask about."""
    found = []
    if filters.side:
        # A party's name or slug, or the first API's side key (a and b: the first two parties).
        side = filters.side.lower()
        named = [func.lower(Party.name) == side, col(Party.slug) == side]
        if side in SIDE_KEYS:
            named.append(col(ExchangeParty.position) == SIDE_KEYS.index(side))
        found.append(or_(*named))
    if filters.party:
        found.append(col(Party.slug) == filters.party.lower())
    return found


def _conditions(filters: TimelineFilters, *, dialect: str) -> list[ColumnElement[bool]]:
    conditions = [counted_stage(), visible_exchange()]
    if filters.exchange:
        conditions.append(col(Exchange.slug) == filters.exchange)
    if receivers := _receivers(filters):
        conditions.append(
            exists().where(
                col(StageRelease.stage_id) == Stage.id,
                col(ExchangeParty.exchange_id) == Stage.exchange_id,
                col(ExchangeParty.party_id) == StageRelease.received_by,
                col(Party.id) == ExchangeParty.party_id,
                *receivers,
            )
        )
    if filters.date_from:
        conditions.append(col(Stage.date) >= filters.date_from)
    if filters.date_to:
        conditions.append(col(Stage.date) <= filters.date_to)
    if filters.status:
        conditions.append(col(Stage.status) == filters.status)
    if filters.q:
        conditions.append(search.stage_matches(filters.q, dialect=dialect))
    if filters.page:
        conditions.append(
            tuple_(col(Stage.date), col(Stage.id)) < tuple_(filters.page.date, filters.page.id)
        )
    return conditions


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def timeline_page(
    session: Session, filters: TimelineFilters, *, size: int = PAGE_SIZE
) -> TimelinePage:
    """Published stages, newest first, matching the filters; one page after `filters.page`."""
    rows = session.execute(
        select(Stage, col(Exchange.slug))
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(and_(*_conditions(filters, dialect=_dialect(session))))
        .order_by(col(Stage.date).desc(), col(Stage.id).desc())
        .limit(size + 1)
    ).all()
    stages = [stage for stage, _ in rows[:size]]
    slugs: dict[int | None, str] = {stage.exchange_id: slug for stage, slug in rows}
    last = stages[-1] if len(rows) > size else None
    next_cursor = Cursor(date=last.date, id=last.id) if last and last.id is not None else None
    publics = stage_publics(session, stages, slugs=slugs)
    if receivers := _receivers(filters):
        publics = _only_received_by(session, publics, receivers)
    return TimelinePage(stages=publics, next=next_cursor)


def count_stages(session: Session, filters: TimelineFilters) -> int:
    """How many published stages match the filters, on every page."""
    query = (
        select(func.count())
        .select_from(Stage)
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(and_(*_conditions(replace(filters, page=None), dialect=_dialect(session))))
    )
    return int(session.scalar(query) or 0)


def _only_received_by(
    session: Session, stages: list[StagePublic], receivers: list[ColumnElement[bool]]
) -> list[StagePublic]:
    """The stages with only the figures of the parties asked about: their releases received,
    and their side in the first API's shape."""
    query = (
        select(col(Exchange.slug), col(Party.slug), col(ExchangeParty.position))
        .join(ExchangeParty, col(ExchangeParty.exchange_id) == Exchange.id)
        .join(Party, col(Party.id) == ExchangeParty.party_id)
        .where(col(Exchange.slug).in_({stage.exchange for stage in stages}), *receivers)
    )
    wanted: dict[str, set[str]] = {}
    keys: dict[str, set[str]] = {}
    for exchange, party, position in session.execute(query):
        wanted.setdefault(exchange, set()).add(party)
        if position < len(SIDE_KEYS):
            keys.setdefault(exchange, set()).add(SIDE_KEYS[position])
    return [
        stage.model_copy(
            update={
                "releases": [
                    r for r in stage.releases if r.received_by in wanted.get(stage.exchange, ())
                ],
                "sides": [s for s in stage.sides if s.key in keys.get(stage.exchange, ())],
            }
        )
        for stage in stages
    ]
