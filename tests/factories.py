"""Factories with fixed, readable defaults: the Istanbul 1,000-for-1,000 unless told otherwise."""

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from app import writes
from app.models import Exchange, ExchangeCreate, Party, Stage, StageCreate

SOURCE = {
    "url": "https://example.org/report",
    "publisher": "Example Wire",
    "claim": "Both sides confirmed.",
}


def confirming_sources(
    a: tuple[int | None, int | None] = (270, 120), b: tuple[int | None, int | None] | None = None
) -> list[dict[str, Any]]:
    """Kyiv's and Moscow's statements, each giving the figures of both sides: a stage with
    these is confirmed (status is derived from them)."""
    b = a if b is None else b
    figures = [
        {"received_by": party, "military": m, "civilian": c}
        for party, (m, c) in (("ukraine", a), ("russia", b))
    ]
    return [
        {
            "url": f"https://example.org/{who}",
            "publisher": "Example Wire",
            "announcer": announcer,
            "speaks_for": who,
            "claim": f"{announcer}: the figures of both sides.",
            "figures": figures,
        }
        for who, announcer in (
            ("ukraine", "Ukraine's Coordination Headquarters"),
            ("russia", "Russian Defence Ministry"),
        )
    ]


def exchange_data(**overrides: Any) -> ExchangeCreate:
    target = overrides.pop("target", 1000)
    fields: dict[str, Any] = {
        "slug": "istanbul-1000-for-1000",
        "title": "Istanbul 1,000 for 1,000",
        "status": "in_progress",
        "agreed_on": dt.date(2025, 5, 16),
        "planned_stages": 3,
        "sides": [
            {"key": "a", "name": "Ukraine", "target": {"people": target}},
            {"key": "b", "name": "Russia", "target": {"people": target}},
        ],
    }
    return ExchangeCreate.model_validate(fields | overrides)


def stage_data(
    a: tuple[int | None, int | None] = (270, 120),
    b: tuple[int | None, int | None] | None = None,
    **overrides: Any,
) -> StageCreate:
    """A published stage; `a` and `b` are (military, civilian) returned to each side."""
    b = a if b is None else b
    remains = overrides.pop("remains", (None, None))
    people = overrides.pop("people", (None, None))
    fields: dict[str, Any] = {
        "date": dt.date(2025, 5, 23),
        "status": "confirmed",
        "sides": [
            {"key": key, "military": m, "civilian": c, "remains": r, "people": p}
            for key, (m, c), r, p in zip("ab", (a, b), remains, people, strict=True)
        ],
        "sources": [SOURCE],
    }
    return StageCreate.model_validate(fields | overrides)


def make_exchange(session: Session, *stages: StageCreate, **overrides: Any) -> Exchange:
    exchange = writes.create_exchange(session, data=exchange_data(**overrides), actor="test")
    for stage in stages:
        writes.create_stage(session, exchange=exchange, data=stage, actor="test")
    session.commit()
    return exchange


def add_stage(session: Session, exchange: Exchange, stage: StageCreate) -> Stage:
    created = writes.create_stage(session, exchange=exchange, data=stage, actor="test")
    session.commit()
    return created


def release(received_by: str, **figures: Any) -> dict[str, Any]:
    """A release in the v2 shape, from the other Istanbul party unless `released_by` is given."""
    released_by = figures.pop("released_by", "russia" if received_by == "ukraine" else "ukraine")
    return {"released_by": released_by, "received_by": received_by, "kind": "living"} | figures


def correct_stage(
    session: Session, stage_id: int, data: StageCreate, *, reason: str, at: dt.datetime
) -> Stage:
    """An editor's correction of a published stage, saved at the time given."""
    stage = session.get(Stage, stage_id)
    assert stage is not None
    writes.update_stage(
        session, stage=stage, data=data, expected_version=stage.version, actor="editor@example.org",
        reason=reason,
    )  # fmt: skip
    revision = writes.stage_revision(session, stage_id)
    assert revision is not None
    assert revision.is_correction
    revision.at = at
    session.add(revision)
    session.commit()
    return stage


def name_parties_in_ukrainian(session: Session, **names: str) -> None:
    """Give parties (by slug) their Ukrainian names, as an editor does on the conflict page."""
    for party in session.exec(select(Party).where(col(Party.slug).in_(list(names)))):
        party.name_uk = names[party.slug]
        session.add(party)
    session.commit()
