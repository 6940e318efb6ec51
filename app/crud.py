"""Every database read and write. Tallies come from SQL aggregates, never from loading stages."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlmodel import Session, col

from app import metrics, tally
from app.models import (
    SLUG_PATTERN,
    Counts,
    Exchange,
    ExchangeDetail,
    ExchangePublic,
    ExchangeSide,
    Revision,
    SidePublic,
    Source,
    SourcePublic,
    Stage,
    StagePublic,
    StageSide,
    StageSidePublic,
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
    people_parts = func.coalesce(StageSide.military, 0) + func.coalesce(StageSide.civilian, 0)
    # Known people: a reported total, or both parts of it (a row may hold the parts alone).
    people_known = or_(
        col(StageSide.people).is_not(None),
        and_(col(StageSide.military).is_not(None), col(StageSide.civilian).is_not(None)),
    )
    any_people = or_(
        col(StageSide.people).is_not(None),
        col(StageSide.military).is_not(None),
        col(StageSide.civilian).is_not(None),
    )
    return [
        func.count(col(StageSide.id)),
        func.coalesce(func.sum(StageSide.military), 0),
        func.count(col(StageSide.military)),
        func.coalesce(func.sum(StageSide.civilian), 0),
        func.count(col(StageSide.civilian)),
        func.coalesce(func.sum(func.coalesce(StageSide.people, people_parts)), 0),
        func.count(case((people_known, 1))),
        func.count(case((any_people, 1))),
        func.coalesce(func.sum(StageSide.remains), 0),
    ]


def _stage_sums(row: Sequence[Any]) -> tally.StageSums:
    return tally.StageSums(*(int(value) for value in row))


# ---- reads -------------------------------------------------------------------------------


def stage_sums_by_exchange(
    session: Session, *, exchange_ids: Iterable[int]
) -> dict[tuple[int, str], tally.StageSums]:
    """Per (exchange, side key) aggregates for many exchanges in one query."""
    ids = list(exchange_ids)
    if not ids:
        return {}
    query = (
        select(col(Stage.exchange_id), col(StageSide.key), *_stage_sums_columns())
        .join(Stage, col(Stage.id) == StageSide.stage_id)
        .where(col(Stage.exchange_id).in_(ids), counted_stage())
        .group_by(col(Stage.exchange_id), col(StageSide.key))
    )
    return {(row[0], row[1]): _stage_sums(row[2:]) for row in session.execute(query)}


def _sides_by_exchange(session: Session, exchange_ids: list[int]) -> dict[int, list[ExchangeSide]]:
    sides: dict[int, list[ExchangeSide]] = defaultdict(list)
    query = (
        select(ExchangeSide)
        .where(col(ExchangeSide.exchange_id).in_(exchange_ids))
        .order_by(col(ExchangeSide.key))
    )
    for side in session.scalars(query):
        sides[side.exchange_id].append(side)
    return sides


def _target(side: ExchangeSide) -> tally.Counts:
    return tally.Counts(
        people=side.target_people,
        military=side.target_military,
        civilian=side.target_civilian,
        remains=side.target_remains,
    )


def _public_counts(counts: tally.Counts) -> Counts:
    return Counts(**vars(counts))


def _exchange_publics(session: Session, exchanges: Sequence[Exchange]) -> list[ExchangePublic]:
    ids = [exchange.id for exchange in exchanges if exchange.id is not None]
    sums = stage_sums_by_exchange(session, exchange_ids=ids)
    sides = _sides_by_exchange(session, ids)
    metrics.count_tallies(len(ids))
    publics = []
    for exchange in exchanges:
        assert exchange.id is not None
        side_publics = []
        for side in sides[exchange.id]:
            target = _target(side)
            counted = tally.side_tally(sums.get((exchange.id, side.key), tally.StageSums()), target)
            side_publics.append(
                SidePublic.model_validate(
                    {
                        "key": side.key,
                        "name": side.name,
                        "target": _public_counts(target),
                        "returned": _public_counts(counted.returned),
                        "percent": counted.percent,
                        "remaining": counted.remaining,
                        "undisclosed": counted.undisclosed,
                    }
                )
            )
        stages_count = max(
            (sums[(exchange.id, key)].stages for key in ("a", "b") if (exchange.id, key) in sums),
            default=0,
        )
        publics.append(
            ExchangePublic.model_validate(
                exchange, update={"stages_count": stages_count, "sides": side_publics}
            )
        )
    return publics


def list_exchanges(session: Session, *, happening_first: bool = False) -> list[ExchangePublic]:
    """Published exchanges, most recent activity first, each with its tally.

    With `happening_first` (the dashboard), exchanges are grouped by status in HAPPENING_FIRST
    order before that.
    """
    last_stage = (
        select(func.max(Stage.date))
        .where(col(Stage.exchange_id) == Exchange.id, counted_stage())
        .scalar_subquery()
    )
    order: list[Any] = [
        func.coalesce(last_stage, Exchange.agreed_on).desc().nulls_last(),
        col(Exchange.id).desc(),
    ]
    if happening_first:
        ranks = {status: rank for rank, status in enumerate(HAPPENING_FIRST)}
        order.insert(0, case(ranks, value=col(Exchange.status), else_=len(ranks)))
    query = select(Exchange).where(visible_exchange()).order_by(*order)
    return _exchange_publics(session, session.scalars(query).all())


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
    session: Session, *, slug: str, include_drafts: bool = False
) -> ExchangeDetail | None:
    """One published exchange with its tally, its sources and its published stages, oldest first."""
    exchange = get_exchange_row(session, slug=slug, include_drafts=include_drafts)
    if exchange is None:
        return None
    [public] = _exchange_publics(session, [exchange])
    return ExchangeDetail.model_validate(
        public,
        update={
            "sources": exchange_sources(session, exchange_id=exchange.id),
            "stages": list_stages(session, exchange=exchange),
        },
    )


def exchange_sources(session: Session, *, exchange_id: int | None) -> list[SourcePublic]:
    query = (
        select(Source)
        .where(col(Source.exchange_id) == exchange_id, col(Source.stage_id).is_(None))
        .order_by(col(Source.position), col(Source.id))
    )
    return [SourcePublic.model_validate(source) for source in session.scalars(query)]


def list_stages(session: Session, *, exchange: Exchange) -> list[StagePublic]:
    stages = session.scalars(
        select(Stage)
        .where(col(Stage.exchange_id) == exchange.id, counted_stage())
        .order_by(col(Stage.date), col(Stage.id))
    ).all()
    return stage_publics(session, stages, slugs={exchange.id: exchange.slug})


def list_stage_rows(
    session: Session, *, exchange_id: int | None, deleted: bool = False
) -> list[Stage]:
    """An exchange's stages for editors, drafts included, oldest first; or its deleted ones."""
    query = select(Stage).where(
        col(Stage.exchange_id) == exchange_id,
        col(Stage.deleted_at).is_not(None) if deleted else col(Stage.deleted_at).is_(None),
    )
    return list(session.scalars(query.order_by(col(Stage.date), col(Stage.id))))


def stage_publics(
    session: Session, stages: Sequence[Stage], *, slugs: dict[int | None, str]
) -> list[StagePublic]:
    """Stages with their sides and sources, in three queries whatever the number of stages."""
    ids = [stage.id for stage in stages]
    sides: dict[int, list[StageSidePublic]] = defaultdict(list)
    for side in session.scalars(
        select(StageSide).where(col(StageSide.stage_id).in_(ids)).order_by(col(StageSide.key))
    ):
        sides[side.stage_id].append(StageSidePublic.model_validate(side))
    sources: dict[int, list[SourcePublic]] = defaultdict(list)
    for source in session.scalars(
        select(Source)
        .where(col(Source.stage_id).in_(ids))
        .order_by(col(Source.position), col(Source.id))
    ):
        assert source.stage_id is not None
        sources[source.stage_id].append(SourcePublic.model_validate(source))
    return [
        StagePublic.model_validate(
            stage,
            update={
                "exchange": slugs[stage.exchange_id],
                "sides": sides[stage.id],
                "sources": sources[stage.id],
            },
        )
        for stage in stages
        if stage.id is not None
    ]


def exchange_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, title) of every published exchange, for filter menus."""
    query = select(col(Exchange.slug), col(Exchange.title)).where(visible_exchange())
    return [(slug, title) for slug, title in session.execute(query.order_by(col(Exchange.title)))]


def side_name_choices(session: Session) -> list[str]:
    query = (
        select(col(ExchangeSide.name))
        .join(Exchange, col(Exchange.id) == ExchangeSide.exchange_id)
        .where(visible_exchange())
        .distinct()
        .order_by(col(ExchangeSide.name))
    )
    return list(session.scalars(query))


def corrections(session: Session, *, stage_ids: list[int]) -> dict[int, list[Revision]]:
    """Changes to published stages, with the editor's reason, oldest first, by stage id."""
    query = (
        select(Revision)
        .where(
            col(Revision.entity) == "stage",
            col(Revision.action) == "update",
            col(Revision.entity_id).in_(stage_ids),
        )
        .order_by(col(Revision.at), col(Revision.id))
    )
    found: dict[int, list[Revision]] = defaultdict(list)
    for revision in session.scalars(query):
        found[revision.entity_id].append(revision)
    return found


def totals(session: Session) -> TotalsPublic:
    """All-time sums over every published exchange, one entry per side name."""
    sums_query = (
        select(col(ExchangeSide.name), *_stage_sums_columns())
        .select_from(StageSide)
        .join(Stage, col(Stage.id) == StageSide.stage_id)
        .join(Exchange, col(Exchange.id) == Stage.exchange_id)
        .join(
            ExchangeSide,
            and_(
                col(ExchangeSide.exchange_id) == Exchange.id,
                col(ExchangeSide.key) == StageSide.key,
            ),
        )
        .where(counted_stage(), visible_exchange())
        .group_by(col(ExchangeSide.name))
    )
    sums = {row[0]: _stage_sums(row[1:]) for row in session.execute(sums_query)}
    count_query = (
        select(col(ExchangeSide.name), func.count(func.distinct(ExchangeSide.exchange_id)))
        .join(Exchange, col(Exchange.id) == ExchangeSide.exchange_id)
        .where(visible_exchange())
        .group_by(col(ExchangeSide.name))
        .order_by(func.count(func.distinct(ExchangeSide.exchange_id)).desc(), ExchangeSide.name)
    )
    sides = []
    for name, exchanges_count in session.execute(count_query):
        counted = tally.side_tally(sums.get(name, tally.StageSums()))
        sides.append(
            TotalsSide(
                name=name,
                returned=_public_counts(counted.returned),
                undisclosed=counted.undisclosed,
                exchanges_count=exchanges_count,
            )
        )
    return TotalsPublic(sides=sides)


def exchange_titles(session: Session, *, slugs: Iterable[str]) -> dict[str, str]:
    """Exchange slug -> title for the given slugs, so feeds can name each stage's exchange."""
    query = select(col(Exchange.slug), col(Exchange.title)).where(col(Exchange.slug).in_(slugs))
    return dict(session.execute(query).all())


def side_names(
    session: Session, *, slugs: Iterable[str] | None = None
) -> dict[tuple[str, str], str]:
    """(exchange slug, side key) -> side name, for every exchange or only those in `slugs`."""
    query = select(col(Exchange.slug), col(ExchangeSide.key), col(ExchangeSide.name)).join(
        ExchangeSide, col(ExchangeSide.exchange_id) == Exchange.id
    )
    if slugs is not None:
        query = query.where(col(Exchange.slug).in_(list(slugs)))
    return {(slug, key): name for slug, key, name in session.execute(query)}


def exchange_slugs(session: Session) -> set[str]:
    return set(session.scalars(select(col(Exchange.slug))))


# ---- embeds ------------------------------------------------------------------------------


def get_exchange_as_of(session: Session, *, slug: str, as_of: dt.date) -> ExchangeDetail | None:
    """A published exchange as an article written on `as_of` saw it: its tally and stages count
    only the stages dated on or before that day, each with its current (corrected) figures.

    "Published by that date" is read from the stage's date, not from when it was entered: the
    bundled history was entered long after the swaps it records.
    """
    exchange = get_exchange_row(session, slug=slug)
    if exchange is None:
        return None
    dated = and_(counted_stage(), col(Stage.date) <= as_of)
    query = (
        select(col(StageSide.key), *_stage_sums_columns())
        .join(Stage, col(Stage.id) == StageSide.stage_id)
        .where(col(Stage.exchange_id) == exchange.id, dated)
        .group_by(col(StageSide.key))
    )
    sums = {row[0]: _stage_sums(row[1:]) for row in session.execute(query)}
    assert exchange.id is not None
    sides = []
    for side in _sides_by_exchange(session, [exchange.id])[exchange.id]:
        target = _target(side)
        counted = tally.side_tally(sums.get(side.key, tally.StageSums()), target)
        sides.append(
            SidePublic.model_validate(
                {
                    "key": side.key,
                    "name": side.name,
                    "target": _public_counts(target),
                    "returned": _public_counts(counted.returned),
                    "percent": counted.percent,
                    "remaining": counted.remaining,
                    "undisclosed": counted.undisclosed,
                }
            )
        )
    stages = [stage for stage in list_stages(session, exchange=exchange) if stage.date <= as_of]
    return ExchangeDetail.model_validate(
        exchange,
        update={
            "stages_count": max((s.stages for s in sums.values()), default=0),
            "sides": sides,
            "sources": exchange_sources(session, exchange_id=exchange.id),
            "stages": stages,
        },
    )


def figures_corrected(session: Session, *, slug: str, stage_ids: list[int]) -> bool:
    """Whether a published figure of these stages, or a published target of the exchange, was
    changed after publication (what readers see as a correction note)."""
    exchange_id = select(col(Exchange.id)).where(col(Exchange.slug) == slug).scalar_subquery()
    query = select(Revision).where(
        col(Revision.action) == "update",
        or_(
            and_(col(Revision.entity) == "stage", col(Revision.entity_id).in_(stage_ids)),
            and_(col(Revision.entity) == "exchange", col(Revision.entity_id) == exchange_id),
        ),
    )
    for revision in session.scalars(query):
        before, after = revision.before, revision.after
        if not before or not after or not before.get("published"):
            continue  # a restore, or a draft's changes: nothing published was changed
        shown = (
            "target"
            if revision.entity == "exchange"
            else ("military", "civilian", "people", "remains")
        )
        if _figures_of(before, shown) != _figures_of(after, shown):
            return True
    return False


def _figures_of(snapshot: dict[str, Any], names: str | tuple[str, ...]) -> list[Any]:
    fields = (names,) if isinstance(names, str) else names
    sides = sorted(snapshot.get("sides", []), key=lambda side: str(side.get("key")))
    return [[side.get(name) for name in fields] for side in sides]
