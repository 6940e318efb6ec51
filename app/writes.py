"""Every write to exchanges and stages, each with its revision in the history, in the caller's
transaction (the caller commits)."""

from typing import Any

from sqlmodel import Session

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
