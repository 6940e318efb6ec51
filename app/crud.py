"""Every database read. Tallies come from SQL aggregates over releases, never from loading stages;
the counting rules are `tally`'s."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app import metrics, tally
from app.models import (
    SIDE_KEYS,
    SLUG_PATTERN,
    Conflict,
    ConflictPublic,
    Counts,
    Exchange,
    ExchangeDetail,
    ExchangeParty,
    ExchangePublic,
    FigurePublic,
    MeasureRange,
    OfficialTotal,
    OfficialTotalPublic,
    OutsideDeal,
    Party,
    PartyPublic,
    PartyTallyPublic,
    Percents,
    ReleasePublic,
    Revision,
    SidePublic,
    Source,
    SourceFigure,
    SourcePublic,
    Stage,
    StagePublic,
    StageRelease,
    StageSidePublic,
    TargetPublic,
    Terms,
    TermsPublic,
    TermsTarget,
    TotalsConflict,
    TotalsParty,
    TotalsPublic,
    TotalsSide,
)

# The dashboard leads with what is happening now.
HAPPENING_FIRST = ("in_progress", "announced", "stalled", "completed")


def counted_stage() -> ColumnElement[bool]:
    """Stages that count: published and not deleted (drafts and deleted stages never count)."""
    return and_(col(Stage.published).is_(True), col(Stage.deleted_at).is_(None))


def visible_exchange() -> ColumnElement[bool]:
    return and_(col(Exchange.published).is_(True), col(Exchange.deleted_at).is_(None))


def _stage_sums_columns() -> list[Any]:
    """The columns of `tally.StageSums`, in order; `tally.with_stage` must count the same way."""
    R = StageRelease
    living, remains = col(R.kind) == "living", col(R.kind) == "remains"
    people_parts = func.coalesce(R.military, 0) + func.coalesce(R.civilian, 0)
    # Known people: a reported total, or both parts of it (a row may hold the parts alone).
    people_known = and_(
        living,
        or_(
            col(R.people).is_not(None),
            and_(col(R.military).is_not(None), col(R.civilian).is_not(None)),
        ),
    )
    any_people = or_(
        col(R.people).is_not(None), col(R.military).is_not(None), col(R.civilian).is_not(None)
    )
    return [
        func.count(case((living, 1))),
        func.coalesce(func.sum(R.military), 0),
        func.count(col(R.military)),
        func.coalesce(func.sum(R.civilian), 0),
        func.count(col(R.civilian)),
        func.coalesce(func.sum(case((living, func.coalesce(R.people, people_parts)))), 0),
        func.count(case((people_known, 1))),
        func.count(case((any_people, 1))),
        func.coalesce(func.sum(R.remains), 0),
        func.count(case((remains, 1))),
        func.count(col(R.remains)),
        func.count(case((col(R.qualifier) == "at_least", 1))),
        func.count(case((col(R.qualifier) == "about", 1))),
        func.count(case((and_(remains, col(R.qualifier) == "at_least"), 1))),
        func.count(case((and_(remains, col(R.qualifier) == "about"), 1))),
    ]


SUMS_WIDTH = 15


def _stage_sums(row: Sequence[Any]) -> tally.StageSums:
    return tally.StageSums(*(int(value) for value in row[:SUMS_WIDTH]))


def _counted_until(as_of: dt.date | None) -> ColumnElement[bool]:
    return and_(counted_stage(), col(Stage.date) <= as_of) if as_of else counted_stage()


# ---- reads -------------------------------------------------------------------------------


@dataclass
class _PartySums:
    deal: tally.StageSums = field(default_factory=tally.StageSums)
    outside: tally.StageSums = field(default_factory=tally.StageSums)
    disputed_stages: int = 0


def release_sums(
    session: Session, *, exchange_ids: Iterable[int], as_of: dt.date | None = None
) -> dict[tuple[int, int], _PartySums]:
    """Per (exchange, receiving party id) aggregates for many exchanges in one query."""
    ids = list(exchange_ids)
    if not ids:
        return {}
    query = (
        select(
            col(Stage.exchange_id),
            col(StageRelease.received_by),
            col(StageRelease.outside_deal),
            *_stage_sums_columns(),
            # Stages an editor marked disputed for a reason the figures do not show.
            func.count(case((col(Stage.disputed_reason).is_not(None), 1))),
        )
        .join(Stage, col(Stage.id) == StageRelease.stage_id)
        .where(col(Stage.exchange_id).in_(ids), _counted_until(as_of))
        .group_by(
            col(Stage.exchange_id), col(StageRelease.received_by), col(StageRelease.outside_deal)
        )
    )
    found: dict[tuple[int, int], _PartySums] = defaultdict(_PartySums)
    for row in session.execute(query):
        sums = found[(row[0], row[1])]
        if row[2]:
            sums.outside = _stage_sums(row[3:])
        else:
            sums.deal = _stage_sums(row[3:])
        sums.disputed_stages += int(row[-1])
    return found


def stage_sums_by_exchange(
    session: Session, *, exchange_ids: Iterable[int]
) -> dict[tuple[int, str], tally.StageSums]:
    """Per (exchange, side key) aggregates in the deal: the first API's two sides."""
    ids = list(exchange_ids)
    sums = release_sums(session, exchange_ids=ids)
    parties = _parties_by_exchange(session, ids)
    return {
        (exchange_id, key): sums[(exchange_id, party.id)].deal
        for exchange_id, listed in parties.items()
        for key, party in zip(SIDE_KEYS, listed, strict=False)
        if (exchange_id, party.id) in sums
    }


@dataclass(frozen=True)
class _Listed:
    id: int
    slug: str
    name: str
    name_uk: str | None
    official_number: int | None


def _parties_by_exchange(session: Session, exchange_ids: list[int]) -> dict[int, list[_Listed]]:
    parties: dict[int, list[_Listed]] = defaultdict(list)
    query = (
        select(
            col(ExchangeParty.exchange_id),
            col(Party.id),
            col(Party.slug),
            col(Party.name),
            col(Party.name_uk),
            col(ExchangeParty.official_number),
        )
        .join(Party, col(Party.id) == ExchangeParty.party_id)
        .where(col(ExchangeParty.exchange_id).in_(exchange_ids))
        .order_by(col(ExchangeParty.exchange_id), col(ExchangeParty.position))
    )
    for exchange_id, *listed in session.execute(query):
        parties[exchange_id].append(_Listed(*listed))
    return parties


def _terms_by_exchange(
    session: Session, exchange_ids: list[int], slugs: dict[int, str]
) -> dict[int, list[TermsPublic]]:
    """Every terms version of these exchanges, oldest first, with targets and sources."""
    rows = session.scalars(
        select(Terms)
        .where(col(Terms.exchange_id).in_(exchange_ids))
        .order_by(col(Terms.effective).asc().nulls_first(), col(Terms.id))
    ).all()
    found: dict[int, list[TermsPublic]] = defaultdict(list)
    for terms, public in _terms_publics(session, rows, slugs):
        found[terms.exchange_id].append(public)
    return found


def _terms_publics(
    session: Session, rows: Sequence[Terms], slugs: dict[int, str]
) -> list[tuple[Terms, TermsPublic]]:
    """These terms versions, in their order, each with its targets and sources."""
    ids = [terms.id for terms in rows]
    targets: dict[int, list[TargetPublic]] = defaultdict(list)
    for target in session.scalars(
        select(TermsTarget).where(col(TermsTarget.terms_id).in_(ids)).order_by(col(TermsTarget.id))
    ):
        targets[target.terms_id].append(
            TargetPublic.model_validate(target, update={"received_by": slugs[target.received_by]})
        )
    sources = _sources(session, col(Source.terms_id).in_(ids), slugs)
    found = []
    for terms in rows:
        assert terms.id is not None
        public = TermsPublic.model_validate(
            terms,
            update={
                "targets": targets[terms.id],
                "sources": [source for _, source in sources.get(("terms", terms.id), [])],
            },
        )
        found.append((terms, public))
    return found


def exchange_parties(session: Session, exchange_ids: list[int]) -> dict[int, list[PartyPublic]]:
    """These exchanges' parties in order, by exchange id."""
    listed = _parties_by_exchange(session, exchange_ids)
    return {id_: [PartyPublic.model_validate(vars(p)) for p in ps] for id_, ps in listed.items()}


def exchange_terms(session: Session, exchange_ids: list[int]) -> dict[int, list[TermsPublic]]:
    """Every terms version of these exchanges, oldest first, by exchange id."""
    return _terms_by_exchange(session, exchange_ids, _party_slugs(session))


def terms_in_force(terms: Sequence[TermsPublic], as_of: dt.date | None) -> TermsPublic | None:
    """The latest version in force on `as_of` (today when None): effective on or before it."""
    day = as_of or dt.datetime.now(dt.UTC).date()
    in_force = [t for t in terms if t.effective is None or t.effective <= day]
    return in_force[-1] if in_force else None


def _target_counts(terms: TermsPublic | None, party: str) -> tally.Counts:
    for target in terms.targets if terms else []:
        if target.received_by == party:
            return tally.Counts(
                people=target.people,
                military=target.military,
                civilian=target.civilian,
                remains=target.remains,
            )
    return tally.Counts()


def _public_counts(counts: tally.Counts) -> Counts:
    return Counts(**vars(counts))


def _spreads(
    session: Session, exchange_ids: list[int], as_of: dt.date | None
) -> dict[tuple[int, int], dict[tally.Measure, list[tuple[int, int, int]]]]:
    """Per (exchange, receiving party id) and measure, the stages whose announcers disagree:
    (counted, lowest, highest). Two queries, over stages that have claimed figures only."""
    claimed = session.execute(
        select(
            col(Source.stage_id),
            col(Stage.exchange_id),
            col(SourceFigure.received_by),
            col(SourceFigure.kind),
            *(col(getattr(SourceFigure, m)) for m in tally.MEASURES),
        )
        .join(Source, col(Source.id) == SourceFigure.source_id)
        .join(Stage, col(Stage.id) == Source.stage_id)
        .where(col(Stage.exchange_id).in_(exchange_ids), _counted_until(as_of))
    ).all()
    if not claimed:
        return {}
    by_stage: dict[tuple[int, int, str], list[Sequence[Any]]] = defaultdict(list)
    for stage_id, _, received_by, kind, *values in claimed:
        by_stage[(stage_id, received_by, kind)].append(values)
    releases = session.execute(
        select(
            col(StageRelease.stage_id),
            col(Stage.exchange_id),
            col(StageRelease.received_by),
            col(StageRelease.kind),
            *(col(getattr(StageRelease, m)) for m in tally.MEASURES),
        )
        .join(Stage, col(Stage.id) == StageRelease.stage_id)
        .where(
            col(StageRelease.stage_id).in_({key[0] for key in by_stage}),
            col(StageRelease.outside_deal).is_(False),
        )
    ).all()
    found: dict[tuple[int, int], dict[tally.Measure, list[tuple[int, int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for stage_id, exchange_id, received_by, kind, *values in releases:
        claims = by_stage.get((stage_id, received_by, kind), [])
        for index, measure in enumerate(tally.MEASURES):
            spread = tally.stage_spread(values[index], [claim[index] for claim in claims])
            if spread is not None:
                found[(exchange_id, received_by)][measure].append(spread)
    return found


def _exchange_publics(
    session: Session,
    exchanges: Sequence[Exchange],
    *,
    as_of: dt.date | None = None,
    parties: dict[int, list[_Listed]] | None = None,
    stage_spans: dict[int, tuple[int, dt.date | None]] | None = None,
) -> list[ExchangePublic]:
    """The exchanges with their tallies. `parties` (_parties_by_exchange) and `stage_spans`
    (each exchange's count of counted stages up to `as_of`, and its first stage's date): where
    the caller has read them already."""
    ids = [exchange.id for exchange in exchanges if exchange.id is not None]
    if not ids:
        return []
    sums = release_sums(session, exchange_ids=ids, as_of=as_of)
    parties = parties if parties is not None else _parties_by_exchange(session, ids)
    slugs = {party.id: party.slug for listed in parties.values() for party in listed}
    terms = _terms_by_exchange(session, ids, slugs)
    spreads = _spreads(session, ids, as_of)
    conflicts = {
        conflict.id: conflict
        for conflict in session.scalars(
            select(Conflict).where(col(Conflict.id).in_({e.conflict_id for e in exchanges}))
        )
    }
    if stage_spans is None:
        stage_spans = {
            exchange_id: (count, first)
            for exchange_id, count, first in session.execute(
                select(col(Stage.exchange_id), func.count(col(Stage.id)), func.min(col(Stage.date)))
                .where(col(Stage.exchange_id).in_(ids), _counted_until(as_of))
                .group_by(col(Stage.exchange_id))
            )
        }
    metrics.count_tallies(len(ids))
    publics = []
    for exchange in exchanges:
        assert exchange.id is not None
        in_force = terms_in_force(terms[exchange.id], as_of)
        counted = {
            party.id: tally.party_tally(
                sums[(exchange.id, party.id)].deal,
                sums[(exchange.id, party.id)].outside,
                _target_counts(in_force, party.slug),
                spreads=spreads.get((exchange.id, party.id)),
                disputed=sums[(exchange.id, party.id)].disputed_stages > 0,
            )
            for party in parties[exchange.id]
        }
        headline = tally.headline_measure(
            [c.target for c in counted.values()], [c.counts for c in counted.values()]
        )
        tallies = [
            _party_tally_public(party, counted[party.id], headline)
            for party in parties[exchange.id]
        ]
        sides = [
            _side_public(key, party, counted[party.id])
            for key, party in zip(SIDE_KEYS, parties[exchange.id], strict=False)
        ]
        conflict = conflicts.get(exchange.conflict_id)
        publics.append(
            ExchangePublic.model_validate(
                exchange,
                update={
                    "summary": exchange.description,
                    "planned_stages": in_force.planned_stages if in_force else None,
                    "stages_count": stage_spans.get(exchange.id, (0, None))[0],
                    "first_stage_on": stage_spans.get(exchange.id, (0, None))[1],
                    "conflict": ConflictPublic.model_validate(conflict) if conflict else None,
                    "parties": [PartyPublic.model_validate(vars(p)) for p in parties[exchange.id]],
                    "terms": terms[exchange.id],
                    "tally": tallies,
                    "sides": sides,
                },
            )
        )
    return publics


def _party_tally_public(
    party: _Listed, counted: tally.PartyTally, headline: tally.Headline
) -> PartyTallyPublic:
    return PartyTallyPublic(
        received_by=party.slug,
        name=party.name,
        name_uk=party.name_uk,
        headline=headline,
        qualifier=counted.qualifier,
        qualifiers=counted.qualifiers,
        **vars(counted.counts),
        outside_deal=OutsideDeal(people=counted.outside_people, remains=counted.outside_remains),
        target=_public_counts(counted.target),
        percent=Percents(**vars(counted.percent)),
        remaining=_public_counts(counted.remaining),
        range={m: MeasureRange(min=low, max=high) for m, (low, high) in counted.range.items()}
        if counted.range
        else None,
        disputed=counted.disputed or counted.range is not None,
        undisclosed=counted.undisclosed,
    )


def _side_public(key: str, party: _Listed, counted: tally.PartyTally) -> SidePublic:
    return SidePublic.model_validate(
        {
            "key": key,
            "name": party.name,
            "target": _public_counts(counted.target),
            "returned": _public_counts(counted.counts),
            "percent": counted.percent.people,
            "remaining": counted.remaining.people,
            "undisclosed": counted.undisclosed,
        }
    )


def _last_stage_on() -> Any:
    return (
        select(func.max(Stage.date))
        .where(col(Stage.exchange_id) == Exchange.id, counted_stage())
        .scalar_subquery()
    )


def _recent_first(*, happening_first: bool) -> list[Any]:
    """Most recent activity first; with `happening_first` (the dashboard), grouped by status in
    HAPPENING_FIRST order before that."""
    order: list[Any] = [
        func.coalesce(_last_stage_on(), Exchange.agreed_on).desc().nulls_last(),
        col(Exchange.id).desc(),
    ]
    if happening_first:
        ranks = {status: rank for rank, status in enumerate(HAPPENING_FIRST)}
        order.insert(0, case(ranks, value=col(Exchange.status), else_=len(ranks)))
    return order


def list_exchanges(session: Session, *, happening_first: bool = False) -> list[ExchangePublic]:
    """Published exchanges, most recent activity first, each with its tally."""
    query = (
        select(Exchange)
        .where(visible_exchange())
        .order_by(*_recent_first(happening_first=happening_first))
    )
    return _exchange_publics(session, session.scalars(query).all())


@dataclass(frozen=True)
class ExchangeTable:
    """What the dashboard's table asks of the database: title search, sort and page."""

    title_contains: str = ""
    sort: str | None = None  # one of TABLE_SORTS; None: what is happening first
    descending: bool = False
    locale: str = "en"
    offset: int = 0
    limit: int = 50


# A status sorts in the order an exchange moves through them.
STATUS_ORDER = ("announced", "in_progress", "stalled", "completed")
TABLE_SORTS = ("date", "title", "status", "stages")


def _table_condition(table: ExchangeTable) -> ColumnElement[bool]:
    """Published exchanges whose title, in either language, contains the words (case folded
    on both databases: app/db.py gives SQLite a Unicode lower())."""
    if not table.title_contains:
        return visible_exchange()
    words = table.title_contains.lower()
    return and_(
        visible_exchange(),
        or_(
            func.lower(Exchange.title).contains(words, autoescape=True),
            func.lower(func.coalesce(Exchange.title_uk, "")).contains(words, autoescape=True),
        ),
    )


def _table_sort_key(table: ExchangeTable) -> Any:
    if table.sort == "date":  # the date the table shows: agreed, else its first stage
        first_stage_on = (
            select(func.min(Stage.date))
            .where(col(Stage.exchange_id) == Exchange.id, counted_stage())
            .scalar_subquery()
        )
        return func.coalesce(Exchange.agreed_on, first_stage_on)
    if table.sort == "title":
        if table.locale == "uk":
            return func.lower(func.coalesce(func.nullif(Exchange.title_uk, ""), Exchange.title))
        return func.lower(Exchange.title)
    if table.sort == "status":
        ranks = {status: rank for rank, status in enumerate(STATUS_ORDER)}
        return case(ranks, value=col(Exchange.status), else_=len(ranks))
    return (
        select(func.count(col(Stage.id)))
        .where(col(Stage.exchange_id) == Exchange.id, counted_stage())
        .scalar_subquery()
    )


def exchange_table(session: Session, table: ExchangeTable) -> tuple[list[ExchangePublic], int]:
    """One page of the dashboard's table, each exchange with its tally, and how many exchanges
    match: sorted and cut in SQL, so only the page's exchanges are tallied, however many there
    are. Ties keep what-is-happening-first order; an exchange without a date sorts as the
    earliest."""
    condition = _table_condition(table)
    order = _recent_first(happening_first=True)
    if table.sort is not None:
        key = _table_sort_key(table)
        order.insert(0, key.desc().nulls_last() if table.descending else key.asc().nulls_first())
    query = (
        select(Exchange, func.count().over())  # the count of all matching, on every row
        .where(condition)
        .order_by(*order)
        .offset(table.offset)
        .limit(table.limit)
    )
    rows = session.execute(query).all()
    if rows:
        return _exchange_publics(session, [row[0] for row in rows]), rows[0][1]
    if table.offset == 0:
        return [], 0
    matching = session.scalar(select(func.count(col(Exchange.id))).where(condition)) or 0
    return [], matching


def get_exchange_row(
    session: Session, *, slug: str, include_drafts: bool = False
) -> Exchange | None:
    """A published exchange by slug; for editors, drafts too (never deleted ones)."""
    if not SLUG_PATTERN.fullmatch(slug):
        return None  # cannot exist; and PostgreSQL would refuse some characters outright
    shown = col(Exchange.deleted_at).is_(None) if include_drafts else visible_exchange()
    query = select(Exchange).where(col(Exchange.slug) == slug, shown)
    return session.scalars(query).one_or_none()


def editor_exchanges(session: Session) -> list[Exchange]:
    """Every exchange not deleted, drafts included, most recently changed first."""
    query = select(Exchange).where(col(Exchange.deleted_at).is_(None))
    return list(session.scalars(query.order_by(col(Exchange.updated_at).desc())))


def deleted_stages(session: Session) -> list[tuple[Stage, str]]:
    """Deleted stages with their exchange's slug, most recently deleted first."""
    query = (
        select(Stage, col(Exchange.slug))
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(col(Stage.deleted_at).is_not(None))
        .order_by(col(Stage.deleted_at).desc())
    )
    return [(stage, slug) for stage, slug in session.execute(query)]


def get_exchange(
    session: Session,
    *,
    slug: str,
    include_drafts: bool = False,
    as_of: dt.date | None = None,
) -> ExchangeDetail | None:
    """One exchange with its tally, its sources and its published stages, oldest first; with
    `as_of`, as an article written that day saw it: only the stages dated up to then (with their
    current, corrected figures) against the terms then in force.

    "Published by that date" is read from the stage's date, not from when it was entered: the
    bundled history was entered long after the swaps it records.
    """
    exchange = get_exchange_row(session, slug=slug, include_drafts=include_drafts)
    if exchange is None:
        return None
    return _exchange_detail(session, exchange, _stage_rows(session, exchange), as_of=as_of)


def _exchange_detail(
    session: Session, exchange: Exchange, rows: Sequence[Stage], *, as_of: dt.date | None
) -> ExchangeDetail:
    """The exchange with its tally, sources and `rows` (its counted stages, oldest first)."""
    assert exchange.id is not None
    shown = [row.date for row in rows if as_of is None or row.date <= as_of]
    parties = _parties_by_exchange(session, [exchange.id])
    [public] = _exchange_publics(
        session,
        [exchange],
        as_of=as_of,
        parties=parties,
        stage_spans={exchange.id: (len(shown), min(shown, default=None))},
    )
    # Every party a release, target or claim names is one of the exchange's (the schema's
    # foreign keys say so), so their slugs are those just read; the stages' sources and the
    # exchange's own are read together.
    party_slugs = {party.id: party.slug for party in parties[exchange.id]}
    sources = _sources(
        session,
        or_(col(Source.stage_id).in_([row.id for row in rows]), _own_sources(exchange.id)),
        party_slugs,
    )
    stages = stage_publics(
        session,
        rows,
        slugs={exchange.id: exchange.slug},
        party_slugs=party_slugs,
        listed={exchange.id: [party.slug for party in public.parties]},
        sources=sources,
    )
    own = [source for _, source in sources.get(("exchange", exchange.id), [])]
    return ExchangeDetail.model_validate(
        public,
        update={
            "sources": own,
            "stages": [s for s in stages if as_of is None or s.date <= as_of],
        },
    )


@dataclass(frozen=True)
class ExchangePage:
    exchange: ExchangeDetail
    history: "FigureHistory"  # with each stage's corrections


def exchange_page(session: Session, *, slug: str) -> ExchangePage | None:
    """A published exchange as its page shows it: what get_exchange reads, with the history of
    its figures and each stage's corrections (what figure_history(corrections=True) says), in
    no more statements than get_exchange: the history rides on the exchange's row, the
    corrections on its stages' rows."""
    if not SLUG_PATTERN.fullmatch(slug):
        return None
    counted = (
        select(col(Stage.id))
        .where(col(Stage.exchange_id) == Exchange.id, counted_stage())
        .correlate(Exchange)
    )
    corrected, changes = _history(col(Exchange.id), counted, as_of=None)
    query = select(
        Exchange,
        select(func.count(col(Revision.id))).where(corrected).scalar_subquery(),
        select(func.max(col(Revision.at))).where(changes).scalar_subquery(),
    ).where(col(Exchange.slug) == slug, visible_exchange())
    found = session.execute(query).one_or_none()
    if found is None:
        return None
    exchange, corrections_count, changed = found
    corrections = aliased(Revision)
    stage_rows = (
        select(Stage, corrections)
        .outerjoin(corrections, _stage_corrections(corrections, col(Stage.id)))
        .where(col(Stage.exchange_id) == exchange.id, counted_stage())
        .order_by(col(Stage.date), col(Stage.id), col(corrections.at), col(corrections.id))
    )
    rows: list[Stage] = []
    by_stage: dict[int, list[Revision]] = defaultdict(list)
    for stage, correction in session.execute(stage_rows):
        if not rows or rows[-1] is not stage:
            rows.append(stage)
        if correction is not None:
            by_stage[correction.entity_id].append(correction)
    history = FigureHistory(bool(corrections_count), changed, stage_corrections=by_stage)
    return ExchangePage(_exchange_detail(session, exchange, rows, as_of=None), history)


def get_exchange_as_of(session: Session, *, slug: str, as_of: dt.date) -> ExchangeDetail | None:
    return get_exchange(session, slug=slug, as_of=as_of)


def _party_slugs(session: Session) -> dict[int, str]:
    return dict(session.execute(select(col(Party.id), col(Party.slug))).all())


def _sources(
    session: Session, condition: ColumnElement[bool], slugs: dict[int, str]
) -> dict[tuple[str, int], list[tuple[Source, SourcePublic]]]:
    """Sources matching `condition` with their figures, in two queries, keyed by what they
    belong to: ("stage", id), ("terms", id) or ("exchange", id)."""
    rows = session.scalars(
        select(Source).where(condition).order_by(col(Source.position), col(Source.id))
    ).all()
    figures: dict[int, list[FigurePublic]] = defaultdict(list)
    if rows:
        for figure in session.scalars(
            select(SourceFigure)
            .where(col(SourceFigure.source_id).in_([row.id for row in rows]))
            .order_by(col(SourceFigure.id))
        ):
            received_by = slugs.get(figure.received_by) or _party_slugs(session)[figure.received_by]
            figures[figure.source_id].append(
                FigurePublic.model_validate(figure, update={"received_by": received_by})
            )
    found: dict[tuple[str, int], list[tuple[Source, SourcePublic]]] = defaultdict(list)
    for row in rows:
        assert row.id is not None
        if row.stage_id is not None:
            owner = ("stage", row.stage_id)
        elif row.terms_id is not None:
            owner = ("terms", row.terms_id)
        else:
            owner = ("exchange", row.exchange_id)
        public = SourcePublic.model_validate(row, update={"figures": figures[row.id]})
        found[owner].append((row, public))
    return found


def _own_sources(exchange_id: int | None) -> ColumnElement[bool]:
    """The sources of the exchange itself, not of one of its stages or terms."""
    return and_(
        col(Source.exchange_id) == exchange_id,
        col(Source.stage_id).is_(None),
        col(Source.terms_id).is_(None),
    )


def exchange_sources(session: Session, *, exchange_id: int | None) -> list[SourcePublic]:
    assert exchange_id is not None
    found = _sources(session, _own_sources(exchange_id), _party_slugs(session))
    return [public for _, public in found.get(("exchange", exchange_id), [])]


def _stage_rows(session: Session, exchange: Exchange) -> Sequence[Stage]:
    """An exchange's counted stages, oldest first."""
    return session.scalars(
        select(Stage)
        .where(col(Stage.exchange_id) == exchange.id, counted_stage())
        .order_by(col(Stage.date), col(Stage.id))
    ).all()


def list_stages(session: Session, *, exchange: Exchange) -> list[StagePublic]:
    return stage_publics(
        session, _stage_rows(session, exchange), slugs={exchange.id: exchange.slug}
    )


def list_stage_rows(
    session: Session, *, exchange_id: int | None, deleted: bool = False
) -> list[Stage]:
    """An exchange's stages for editors, drafts included, oldest first; or its deleted ones."""
    query = select(Stage).where(
        col(Stage.exchange_id) == exchange_id,
        col(Stage.deleted_at).is_not(None) if deleted else col(Stage.deleted_at).is_(None),
    )
    return list(session.scalars(query.order_by(col(Stage.date), col(Stage.id))))


def stage_sides(releases: Sequence[ReleasePublic], parties: Sequence[str]) -> list[StageSidePublic]:
    """The first API's two sides of a stage: what each of the first two parties received in the
    deal (a side's counts are unknown where any release's are)."""
    sides = []
    for key, party in zip(SIDE_KEYS, parties, strict=False):
        received = [r for r in releases if r.received_by == party and not r.outside_deal]
        living = [r for r in received if r.kind == "living"]
        remains = [r.remains for r in received if r.kind == "remains"]

        def total(name: str, rows: Sequence[ReleasePublic] = living) -> int | None:
            values = [getattr(row, name) for row in rows]
            return None if not values or None in values else sum(values)

        sides.append(
            StageSidePublic(
                key=key,
                military=total("military"),
                civilian=total("civilian"),
                people=total("people"),
                remains=None if not remains or None in remains else sum(r or 0 for r in remains),
            )
        )
    return sides


def stage_publics(
    session: Session,
    stages: Sequence[Stage],
    *,
    slugs: dict[int | None, str],
    party_slugs: dict[int, str] | None = None,
    listed: Mapping[int | None, list[str]] | None = None,
    sources: dict[tuple[str, int], list[tuple[Source, SourcePublic]]] | None = None,
) -> list[StagePublic]:
    """Stages with their releases, sides and sources, in five queries whatever their number;
    fewer where the caller has read every party's slug by id (`party_slugs`), each exchange's
    parties in order (`listed`) or the stages' sources (`sources`, as `_sources` gives them)."""
    ids = [stage.id for stage in stages]
    if not ids:
        return []
    if listed is None:
        exchange_ids = list({stage.exchange_id for stage in stages})
        parties = _parties_by_exchange(session, exchange_ids)
        listed = {key: [party.slug for party in found] for key, found in parties.items()}
    party_slugs = party_slugs or _party_slugs(session)
    releases: dict[int, list[ReleasePublic]] = defaultdict(list)
    for release in session.scalars(
        select(StageRelease)
        .where(col(StageRelease.stage_id).in_(ids))
        .order_by(col(StageRelease.stage_id), col(StageRelease.position), col(StageRelease.id))
    ):
        releases[release.stage_id].append(
            ReleasePublic.model_validate(
                release,
                update={
                    "released_by": party_slugs[release.released_by],
                    "received_by": party_slugs[release.received_by],
                },
            )
        )
    if sources is None:
        sources = _sources(session, col(Source.stage_id).in_(ids), party_slugs)
    publics = []
    for stage in stages:
        assert stage.id is not None
        order = listed.get(stage.exchange_id, [])
        publics.append(
            StagePublic.model_validate(
                stage,
                update={
                    "exchange": slugs[stage.exchange_id],
                    "releases": releases[stage.id],
                    "sides": stage_sides(releases[stage.id], order) if len(order) == 2 else [],
                    "sources": [public for _, public in sources.get(("stage", stage.id), [])],
                },
            )
        )
    return publics


def exchange_choices(session: Session, locale: str = "en") -> list[tuple[str, str]]:
    """(slug, title) of every published exchange, for filter menus: the Ukrainian title on
    Ukrainian pages where there is one."""
    query = select(col(Exchange.slug), col(Exchange.title), col(Exchange.title_uk))
    rows = session.execute(query.where(visible_exchange())).all()
    titled = [(slug, _in(locale, title, title_uk)) for slug, title, title_uk in rows]
    return sorted(titled, key=lambda row: row[1].casefold())


def _in(locale: str, english: str, ukrainian: str | None) -> str:
    """Content in the page's language where it is translated, English otherwise."""
    return (ukrainian or english) if locale == "uk" else english


def party_choices(session: Session) -> list[Party]:
    """The parties of published exchanges, for the timeline's party filter."""
    query = (
        select(Party)
        .join(ExchangeParty, col(ExchangeParty.party_id) == Party.id)
        .join(Exchange, col(Exchange.id) == ExchangeParty.exchange_id)
        .where(visible_exchange())
        .distinct()
        .order_by(col(Party.name))
    )
    return list(session.scalars(query))


def _stage_corrections(revision: Any, stage: list[int] | Any) -> ColumnElement[bool]:
    """Corrections of these stages (a list of ids), or of the stage in a column."""
    of_stage = (
        col(revision.entity_id).in_(stage)
        if isinstance(stage, list)
        else col(revision.entity_id) == stage
    )
    return and_(col(revision.entity) == "stage", col(revision.is_correction).is_(True), of_stage)


def corrections(session: Session, *, stage_ids: list[int]) -> dict[int, list[Revision]]:
    """Corrections of published stages (decided when written), oldest first, by stage id."""
    query = select(Revision).where(_stage_corrections(Revision, stage_ids))
    found: dict[int, list[Revision]] = defaultdict(list)
    for revision in session.scalars(query.order_by(col(Revision.at), col(Revision.id))):
        found[revision.entity_id].append(revision)
    return found


@dataclass(frozen=True)
class StageCorrection:
    """A correction with the stage it corrected, as a feed announces it."""

    revision: Revision
    exchange: str  # slug
    stage_id: int
    stage_date: dt.date


def recent_corrections(
    session: Session, *, limit: int, exchange_id: int | None = None
) -> list[StageCorrection]:
    """The latest corrections of stages that count, in visible exchanges, newest first."""
    query = (
        select(Revision, col(Exchange.slug), col(Stage.date))
        .join(Stage, col(Stage.id) == Revision.entity_id)
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(
            col(Revision.entity) == "stage",
            col(Revision.is_correction).is_(True),
            counted_stage(),
            visible_exchange(),
        )
        .order_by(col(Revision.at).desc(), col(Revision.id).desc())
        .limit(limit)
    )
    if exchange_id is not None:
        query = query.where(col(Stage.exchange_id) == exchange_id)
    return [
        StageCorrection(revision, slug, revision.entity_id, day)
        for revision, slug, day in session.execute(query).all()
    ]


@dataclass(frozen=True)
class Amendment:
    """A change to a deal, as a feed announces it: recorded at `at` (its revision; for a deal
    loaded without one, the day it took effect)."""

    id: int
    exchange: str  # slug
    terms: TermsPublic
    at: dt.datetime


def recent_amendments(
    session: Session, *, limit: int, exchange_id: int | None = None
) -> list[Amendment]:
    """The latest amendments of visible exchanges, last recorded first."""
    query = (
        select(Terms, col(Exchange.slug), col(Exchange.updated_at))
        .join(Exchange, col(Exchange.id) == Terms.exchange_id)
        .where(col(Terms.kind) == "amendment", visible_exchange())
        .order_by(col(Terms.id).desc())
        .limit(limit)
    )
    if exchange_id is not None:
        query = query.where(col(Terms.exchange_id) == exchange_id)
    rows = session.execute(query).all()
    ids = [terms.id for terms, _, _ in rows]
    recorded = dict(
        session.execute(
            select(col(Revision.entity_id), func.min(Revision.at))
            .where(
                col(Revision.entity) == "terms",
                col(Revision.action) == "create",
                col(Revision.entity_id).in_(ids),
            )
            .group_by(col(Revision.entity_id))
        ).all()
    )
    publics = {
        terms.id: public
        for terms, public in _terms_publics(
            session, [terms for terms, _, _ in rows], _party_slugs(session)
        )
    }
    found = []
    for terms, slug, updated_at in rows:
        assert terms.id is not None
        at = recorded.get(terms.id)
        if at is None:
            at = (
                dt.datetime.combine(terms.effective, dt.time(), tzinfo=dt.UTC)
                if terms.effective
                else updated_at
            )
        found.append(Amendment(terms.id, slug, publics[terms.id], at))
    return found


def totals(session: Session) -> TotalsPublic:
    """All-time sums over published exchanges, per conflict and receiving party, beside the
    latest official running total each party publishes; and the first API's sums per name."""
    sums_query = (
        select(
            col(Exchange.conflict_id),
            col(StageRelease.received_by),
            col(StageRelease.outside_deal),
            *_stage_sums_columns(),
        )
        .select_from(StageRelease)
        .join(Stage, col(Stage.id) == StageRelease.stage_id)
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .where(counted_stage(), visible_exchange())
        .group_by(
            col(Exchange.conflict_id), col(StageRelease.received_by), col(StageRelease.outside_deal)
        )
    )
    sums: dict[tuple[int, int], _PartySums] = defaultdict(_PartySums)
    for row in session.execute(sums_query):
        if row[2]:
            sums[(row[0], row[1])].outside = _stage_sums(row[3:])
        else:
            sums[(row[0], row[1])].deal = _stage_sums(row[3:])
    count_query = (
        select(col(Exchange.conflict_id), col(Party.id), func.count(col(Exchange.id)))
        .join(ExchangeParty, col(ExchangeParty.exchange_id) == Exchange.id)
        .join(Party, col(Party.id) == ExchangeParty.party_id)
        .where(visible_exchange())
        .group_by(col(Exchange.conflict_id), col(Party.id))
    )
    counts = {(c, p): n for c, p, n in session.execute(count_query)}
    conflicts: dict[int | None, Conflict] = {
        c.id: c for c in session.scalars(select(Conflict).order_by(col(Conflict.id)))
    }
    parties = {p.id: p for p in session.scalars(select(Party))}
    official = _latest_official_totals(session)
    by_conflict: dict[int | None, list[TotalsParty]] = defaultdict(list)
    by_name: dict[str, tuple[tally.StageSums, int]] = {}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], parties[item[0][1]].name))
    for (conflict_id, party_id), exchanges_count in ordered:
        party, found = parties[party_id], sums[(conflict_id, party_id)]
        counted = tally.party_tally(found.deal, found.outside)
        by_conflict[conflict_id].append(
            TotalsParty(
                slug=party.slug,
                name=party.name,
                name_uk=party.name_uk,
                **vars(counted.counts),
                qualifier=counted.qualifier,
                undisclosed=counted.undisclosed,
                outside_deal=OutsideDeal(
                    people=counted.outside_people, remains=counted.outside_remains
                ),
                exchanges_count=exchanges_count,
                official=official.get((conflict_id, party_id)),
            )
        )
        before, seen = by_name.get(party.name, (tally.StageSums(), 0))
        by_name[party.name] = (_added(before, found.deal), seen + exchanges_count)
    sides = []
    for name, (deal, exchanges_count) in sorted(by_name.items(), key=lambda i: (-i[1][1], i[0])):
        counted_side = tally.side_tally(deal)
        sides.append(
            TotalsSide(
                name=name,
                returned=_public_counts(counted_side.returned),
                undisclosed=counted_side.undisclosed,
                exchanges_count=exchanges_count,
            )
        )
    return TotalsPublic(
        conflicts=[
            TotalsConflict(
                slug=conflict.slug,
                name=conflict.name,
                name_uk=conflict.name_uk,
                parties=by_conflict[conflict_id],
            )
            for conflict_id, conflict in sorted(
                conflicts.items(),
                key=lambda item: -max((p.exchanges_count for p in by_conflict[item[0]]), default=0),
            )
            if by_conflict[conflict_id]
        ],
        sides=sides,
    )


def _added(first: tally.StageSums, second: tally.StageSums) -> tally.StageSums:
    return tally.StageSums(
        *(a + b for a, b in zip(vars(first).values(), vars(second).values(), strict=True))
    )


def _latest_official_totals(session: Session) -> dict[tuple[int, int], OfficialTotalPublic]:
    """The latest people total each party published, per conflict."""
    latest: dict[tuple[int, int], OfficialTotalPublic] = {}
    query = (
        select(OfficialTotal)
        .where(col(OfficialTotal.measure) == "people")
        .order_by(col(OfficialTotal.as_of).desc(), col(OfficialTotal.id).desc())
    )
    for total in session.scalars(query):
        key = (total.conflict_id, total.party_id)
        if key not in latest:
            latest[key] = OfficialTotalPublic(
                people=total.figure,
                measure="people",
                qualifier=total.qualifier,  # type: ignore[arg-type]
                as_of=total.as_of,
                note=total.note,
                source=SourcePublic(
                    url=total.url,
                    publisher=total.publisher,
                    announcer=total.announcer,
                    published_at=total.published_at,
                    claim=total.claim,
                ),
            )
    return latest


@dataclass(frozen=True)
class ExchangeTitle:
    title: str
    title_uk: str | None


def exchange_titles(session: Session, *, slugs: Iterable[str]) -> dict[str, ExchangeTitle]:
    """Exchange slug -> its titles in both languages, for pages and feeds that list stages."""
    query = select(col(Exchange.slug), col(Exchange.title), col(Exchange.title_uk)).where(
        col(Exchange.slug).in_(slugs)
    )
    return {slug: ExchangeTitle(title, uk) for slug, title, uk in session.execute(query)}


def side_names(
    session: Session, *, slugs: Iterable[str] | None = None, locale: str = "en"
) -> dict[tuple[str, str], str]:
    """(exchange slug, side key) -> party name for the first two parties of every exchange, or
    only those in `slugs`."""
    query = (
        select(col(Exchange.slug), col(ExchangeParty.position), col(Party.name), col(Party.name_uk))
        .join(ExchangeParty, col(ExchangeParty.exchange_id) == Exchange.id)
        .join(Party, col(Party.id) == ExchangeParty.party_id)
        .where(col(ExchangeParty.position) < len(SIDE_KEYS))
    )
    if slugs is not None:
        query = query.where(col(Exchange.slug).in_(list(slugs)))
    return {
        (slug, SIDE_KEYS[position]): _in(locale, name, name_uk)
        for slug, position, name, name_uk in session.execute(query)
    }


def party_names(session: Session, locale: str = "en") -> dict[str, str]:
    """Party slug -> name, for feeds and lists that name the parties of many exchanges."""
    rows = session.execute(select(col(Party.slug), col(Party.name), col(Party.name_uk)))
    return {slug: _in(locale, name, name_uk) for slug, name, name_uk in rows}


def exchange_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(col(Exchange.slug))))


# ---- embeds ------------------------------------------------------------------------------


SEED_ACTOR = "seed"  # who writes the bundled history (app/seed.py)


@dataclass(frozen=True)
class FigureHistory:
    corrected: bool  # a figure shown, or a target of the exchange, was corrected
    changed: dt.datetime | None  # when an editor last changed the figures or terms shown
    # On the exchange page: each stage's corrections, oldest first, by stage id (`corrections`).
    stage_corrections: dict[int, list[Revision]] = field(default_factory=dict)


def _history(
    exchange_id: Any, shown: list[int] | Select[Any], *, as_of: dt.date | None
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The revisions that make a correction note (of the `shown` stages, the exchange and its
    terms), and those that are changes (figure_history says which). `exchange_id` may be the
    column of an enclosing query on the exchange: each subquery here correlates to it."""
    all_terms = select(col(Terms.id)).where(col(Terms.exchange_id) == exchange_id)
    all_terms = all_terms.correlate(Exchange)
    is_exchange = and_(col(Revision.entity) == "exchange", col(Revision.entity_id) == exchange_id)
    corrected = and_(
        col(Revision.is_correction).is_(True),
        or_(
            and_(col(Revision.entity) == "stage", col(Revision.entity_id).in_(shown)),
            is_exchange,
            and_(col(Revision.entity) == "terms", col(Revision.entity_id).in_(all_terms)),
        ),
    )
    stages = select(col(Stage.id)).where(col(Stage.exchange_id) == exchange_id).correlate(Exchange)
    terms, itself = all_terms, is_exchange
    if as_of is not None:  # what the pinned widget shows: its stages, the terms then in force
        stages = stages.where(col(Stage.date) <= as_of)
        terms = terms.where(or_(col(Terms.effective).is_(None), col(Terms.effective) <= as_of))
        day_after = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
        itself = and_(itself, col(Revision.at) < day_after)
    changes = and_(
        or_(col(Revision.actor) != SEED_ACTOR, col(Revision.action) != "create"),
        or_(
            and_(col(Revision.entity) == "stage", col(Revision.entity_id).in_(stages)),
            and_(col(Revision.entity) == "terms", col(Revision.entity_id).in_(terms)),
            itself,
        ),
    )
    return corrected, changes


def figure_history(
    session: Session, *, slug: str, stage_ids: list[int], as_of: dt.date | None = None
) -> FigureHistory:
    """What a widget says of its figures' history, in one statement over the revisions.

    `corrected`: whether a published figure of these stages, or a published target of the
    exchange, was corrected (decided when the revision was written): a correction note.
    `changed`: its latest revision (a stage's, with `as_of` only of stages dated up to then; a
    terms version's; the exchange's own). The seed's own creations are not changes: the bundled
    history was entered long after it happened, so its figures date from its sources
    (app/embed.py). The exchange page reads the same with its exchange (exchange_page)."""
    exchange_id = select(col(Exchange.id)).where(col(Exchange.slug) == slug).scalar_subquery()
    corrected, changes = _history(exchange_id, stage_ids, as_of=as_of)
    query = select(
        func.count(case((corrected, col(Revision.id)))),
        func.max(case((changes, col(Revision.at)))),
    ).where(or_(corrected, changes))
    found, changed = session.execute(query).one()
    return FigureHistory(corrected=bool(found), changed=changed)


def last_change(session: Session) -> dt.datetime | None:
    """When a published figure last changed: the latest edit to an exchange or a stage, or any
    recorded revision (sources, official totals, terms), in one statement."""
    latest = session.execute(
        select(
            select(func.max(col(Exchange.updated_at))).where(visible_exchange()).scalar_subquery(),
            select(func.max(col(Stage.updated_at))).where(counted_stage()).scalar_subquery(),
            select(func.max(col(Revision.at))).scalar_subquery(),
        )
    ).one()
    found = [when for when in latest if when is not None]
    return max(found) if found else None
