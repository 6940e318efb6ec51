"""Every write to exchanges and stages, each with its revision in the history, in the caller's
transaction (the caller commits)."""

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from app.crud import exchange_slugs
from app.models import (
    Exchange,
    ExchangeCreate,
    ExchangeSide,
    Revision,
    Source,
    SourceCreate,
    Stage,
    StageCreate,
    StageSide,
    utcnow,
)


def _record(
    session: Session,
    *,
    entity: str,
    entity_id: int | None,
    action: str,
    actor: str,
    user_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> None:
    assert entity_id is not None
    session.add(
        Revision(
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor=actor,
            user_id=user_id,
            before=before,
            after=after,
            reason=reason,
        )
    )


def _add_sources(
    session: Session,
    sources: list[SourceCreate],
    *,
    exchange_id: int | None,
    stage_id: int | None = None,
) -> None:
    assert exchange_id is not None
    for position, source in enumerate(sources):
        session.add(
            Source(
                exchange_id=exchange_id, stage_id=stage_id, position=position, **source.model_dump()
            )
        )


def create_exchange(
    session: Session,
    *,
    data: ExchangeCreate,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Exchange:
    """Insert an exchange with its sides, sources, stages and history (caller commits)."""
    now = utcnow()
    exchange = Exchange(
        **data.model_dump(exclude={"sides", "sources", "stages"}), created_at=now, updated_at=now
    )
    session.add(exchange)
    session.flush()
    assert exchange.id is not None
    for side in data.sides:
        session.add(
            ExchangeSide(
                exchange_id=exchange.id,
                key=side.key,
                name=side.name,
                target_people=side.target.people,
                target_military=side.target.military,
                target_civilian=side.target.civilian,
                target_remains=side.target.remains,
            )
        )
    _add_sources(session, data.sources, exchange_id=exchange.id)
    _record(
        session,
        entity="exchange",
        entity_id=exchange.id,
        action="create",
        actor=actor,
        user_id=user_id,
        before=None,
        after=data.model_dump(mode="json", exclude={"stages"}),
        reason=reason,
    )
    for stage in data.stages:
        create_stage(
            session, exchange=exchange, data=stage, actor=actor, user_id=user_id, reason=reason
        )
    return exchange


def create_stage(
    session: Session,
    *,
    exchange: Exchange,
    data: StageCreate,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Stage:
    assert exchange.id is not None
    now = utcnow()
    stage = Stage(
        exchange_id=exchange.id,
        **data.model_dump(exclude={"sides", "sources"}),
        created_at=now,
        updated_at=now,
    )
    session.add(stage)
    session.flush()
    assert stage.id is not None
    for side in data.sides:
        session.add(StageSide(stage_id=stage.id, **side.model_dump()))
    _add_sources(session, data.sources, exchange_id=exchange.id, stage_id=stage.id)
    exchange.updated_at = now
    session.add(exchange)
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="create",
        actor=actor,
        user_id=user_id,
        before=None,
        after=data.model_dump(mode="json"),
        reason=reason,
    )
    return stage


def seed_exchanges(session: Session, *, exchanges: list[ExchangeCreate], actor: str) -> int:
    """Insert the exchanges whose slug is not stored yet; return how many were added."""
    present = exchange_slugs(session)
    added = [data for data in exchanges if data.slug not in present]
    for data in added:
        create_exchange(session, data=data, actor=actor, reason="bundled seed data")
    session.commit()
    return len(added)


# ---- changes: versioned, recorded, never silently overwritten ---------------------------


class Conflict(Exception):
    """Someone saved a newer version first; `current` is what is stored now."""

    def __init__(self, current: dict[str, Any], version: int) -> None:
        super().__init__("a newer version was saved meanwhile")
        self.current = current
        self.version = version


class ReasonRequired(ValueError):
    """A published figure changes: the public correction note needs the editor's reason."""

    field = "reason"

    def __init__(self) -> None:
        super().__init__("say why the published figures change; readers see it as a correction")


FIGURES = ("military", "civilian", "people", "remains")


def stage_snapshot(session: Session, stage: Stage) -> dict[str, Any]:
    """The stage as its write schema sees it: what history stores and conflicts show."""
    sides = session.scalars(
        select(StageSide).where(col(StageSide.stage_id) == stage.id).order_by(col(StageSide.key))
    )
    sources = session.scalars(
        select(Source).where(col(Source.stage_id) == stage.id).order_by(col(Source.position))
    )
    data = StageCreate.model_validate(
        {
            "date": stage.date,
            "status": stage.status,
            "notes": stage.notes,
            "published": False,  # validated below as stored; drafts may lack sources
            "sides": [side.model_dump(include={"key", *FIGURES}) for side in sides],
            "sources": [
                source.model_dump(include={"url", "publisher", "published_at", "claim"})
                for source in sources
            ],
        }
    )
    return data.model_dump(mode="json") | {"published": stage.published}


def _figures(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(side[name] for name in ("key", *FIGURES)) for side in snapshot["sides"]]


def update_stage(
    session: Session,
    *,
    stage: Stage,
    data: StageCreate,
    expected_version: int,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Stage:
    """Save a new version of a stage, or raise Conflict if `expected_version` is not current."""
    assert stage.id is not None
    before = stage_snapshot(session, stage)
    after = data.model_dump(mode="json")
    if stage.version != expected_version:
        raise Conflict(before, stage.version)
    if before["published"] and _figures(before) != _figures(after) and not (reason or "").strip():
        raise ReasonRequired
    now = utcnow()
    # The version check is repeated inside the UPDATE so that two simultaneous saves cannot
    # both pass it: the second matches no row.
    changed = session.execute(
        update(Stage)
        .where(col(Stage.id) == stage.id, col(Stage.version) == expected_version)
        .values(
            date=data.date,
            status=data.status,
            notes=data.notes,
            published=data.published,
            version=expected_version + 1,
            updated_at=now,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(stage)
        raise Conflict(stage_snapshot(session, stage), stage.version)
    session.execute(delete(StageSide).where(col(StageSide.stage_id) == stage.id))
    session.execute(delete(Source).where(col(Source.stage_id) == stage.id))
    for side in data.sides:
        session.add(StageSide(stage_id=stage.id, **side.model_dump()))
    _add_sources(session, data.sources, exchange_id=stage.exchange_id, stage_id=stage.id)
    _touch_exchange(session, stage.exchange_id, now)
    action = "publish" if data.published and not before["published"] else "update"
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action=action,
        actor=actor,
        user_id=user_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.flush()
    session.refresh(stage)
    return stage


def _touch_exchange(session: Session, exchange_id: int, now: dt.datetime) -> None:
    session.execute(update(Exchange).where(col(Exchange.id) == exchange_id).values(updated_at=now))


def delete_stage(
    session: Session, *, stage: Stage, actor: str, user_id: int | None, reason: str | None
) -> None:
    """Soft delete: the stage leaves every page and tally; an admin can restore it."""
    if stage.deleted_at is not None:
        return
    now = utcnow()
    stage.deleted_at = now
    stage.version += 1
    session.add(stage)
    _touch_exchange(session, stage.exchange_id, now)
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="delete",
        actor=actor,
        user_id=user_id,
        before=stage_snapshot(session, stage),
        after=None,
        reason=reason,
    )


def restore_deleted_stage(
    session: Session, *, stage: Stage, actor: str, user_id: int | None
) -> None:
    if stage.deleted_at is None:
        return
    now = utcnow()
    stage.deleted_at = None
    stage.version += 1
    session.add(stage)
    _touch_exchange(session, stage.exchange_id, now)
    _record(
        session,
        entity="stage",
        entity_id=stage.id,
        action="update",
        actor=actor,
        user_id=user_id,
        before=None,
        after=stage_snapshot(session, stage),
        reason="restored after deletion",
    )


def exchange_snapshot(session: Session, exchange: Exchange) -> dict[str, Any]:
    sides = session.scalars(
        select(ExchangeSide)
        .where(col(ExchangeSide.exchange_id) == exchange.id)
        .order_by(col(ExchangeSide.key))
    )
    sources = session.scalars(
        select(Source)
        .where(col(Source.exchange_id) == exchange.id, col(Source.stage_id).is_(None))
        .order_by(col(Source.position))
    )
    data = ExchangeCreate.model_validate(
        exchange.model_dump(exclude={"id", "version", "created_at", "updated_at", "deleted_at"})
        | {
            "sides": [
                {
                    "key": side.key,
                    "name": side.name,
                    "target": {
                        "people": side.target_people,
                        "military": side.target_military,
                        "civilian": side.target_civilian,
                        "remains": side.target_remains,
                    },
                }
                for side in sides
            ],
            "sources": [
                source.model_dump(include={"url", "publisher", "published_at", "claim"})
                for source in sources
            ],
        }
    )
    return data.model_dump(mode="json", exclude={"stages"})


def update_exchange(
    session: Session,
    *,
    exchange: Exchange,
    data: ExchangeCreate,
    expected_version: int,
    actor: str,
    user_id: int | None = None,
    reason: str | None = None,
) -> Exchange:
    """Save a new version of an exchange (the slug stays: it is in embed codes)."""
    assert exchange.id is not None
    before = exchange_snapshot(session, exchange)
    after = data.model_dump(mode="json", exclude={"stages"}) | {"slug": exchange.slug}
    if exchange.version != expected_version:
        raise Conflict(before, exchange.version)
    targets_before = [side["target"] for side in before["sides"]]
    targets_after = [side["target"] for side in after["sides"]]
    if before["published"] and targets_before != targets_after and not (reason or "").strip():
        raise ReasonRequired
    now = utcnow()
    fields = data.model_dump(exclude={"slug", "sides", "sources", "stages"})
    changed = session.execute(
        update(Exchange)
        .where(col(Exchange.id) == exchange.id, col(Exchange.version) == expected_version)
        .values(**fields, version=expected_version + 1, updated_at=now)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(exchange)
        raise Conflict(exchange_snapshot(session, exchange), exchange.version)
    for side in data.sides:
        session.execute(
            update(ExchangeSide)
            .where(col(ExchangeSide.exchange_id) == exchange.id, col(ExchangeSide.key) == side.key)
            .values(
                name=side.name,
                target_people=side.target.people,
                target_military=side.target.military,
                target_civilian=side.target.civilian,
                target_remains=side.target.remains,
            )
        )
    session.execute(
        delete(Source).where(col(Source.exchange_id) == exchange.id, col(Source.stage_id).is_(None))
    )
    _add_sources(session, data.sources, exchange_id=exchange.id)
    action = "publish" if data.published and not before["published"] else "update"
    _record(
        session,
        entity="exchange",
        entity_id=exchange.id,
        action=action,
        actor=actor,
        user_id=user_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.flush()
    session.refresh(exchange)
    return exchange


def history(session: Session, *, entity: str, entity_id: int) -> list[Revision]:
    """Every revision of one exchange or stage, newest first."""
    query = (
        select(Revision)
        .where(col(Revision.entity) == entity, col(Revision.entity_id) == entity_id)
        .order_by(col(Revision.at).desc(), col(Revision.id).desc())
    )
    return list(session.scalars(query))
