"""Changes are versioned and recorded: conflicts refused, reasons required, deletes restorable."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from app import crud, writes
from app.models import Revision
from tests.factories import exchange_data, make_exchange, stage_data


def ukraine_people(session: Session) -> int | None:
    detail = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert detail is not None
    return detail.sides[0].returned.people


def test_update_stage_saves_a_new_version_with_its_revision(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 110)))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    writes.update_stage(
        session,
        stage=stage,
        data=stage_data(a=(270, 120)),
        expected_version=1,
        actor="ed@example.org",
        reason="Ministry corrected civilians",
    )
    session.commit()
    assert (stage.version, ukraine_people(session)) == (2, 390)
    revision = session.exec(select(Revision).where(Revision.action == "update")).one()
    assert revision.before is not None
    assert revision.after is not None
    assert revision.before["releases"][0]["civilian"] == 110
    assert revision.after["releases"][0]["civilian"] == 120
    assert revision.is_correction
    assert (revision.actor, revision.reason) == ("ed@example.org", "Ministry corrected civilians")


def test_stale_version_is_a_conflict_that_changes_nothing(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    writes.update_stage(
        session, stage=stage, data=stage_data(a=(270, 120), notes="first"),
        expected_version=1, actor="a@example.org",
    )  # fmt: skip
    session.commit()
    with pytest.raises(writes.Conflict) as conflict:
        writes.update_stage(
            session, stage=stage, data=stage_data(a=(1, 1), notes="second"),
            expected_version=1, actor="b@example.org", reason="typo",
        )  # fmt: skip
    session.rollback()
    assert conflict.value.version == 2
    assert conflict.value.current["notes"] == "first"
    assert ukraine_people(session) == 390


def test_changing_a_published_figure_needs_a_reason(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    with pytest.raises(writes.ReasonRequired):
        writes.update_stage(
            session, stage=stage, data=stage_data(a=(271, 120)), expected_version=1, actor="x",
            reason="  ",
        )  # fmt: skip
    writes.update_stage(
        session, stage=stage, data=stage_data(a=(270, 120), notes="notes only"),
        expected_version=1, actor="x",
    )  # fmt: skip


def test_publishing_a_draft_is_recorded_as_publish(session: Session) -> None:
    exchange = make_exchange(session, stage_data(published=False, sources=[]))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert ukraine_people(session) == 0
    writes.update_stage(session, stage=stage, data=stage_data(), expected_version=1, actor="x")
    session.commit()
    assert ukraine_people(session) == 390
    actions = [r.action for r in writes.history(session, entity="stage", entity_id=stage.id)]
    assert actions == ["publish", "create"]


def test_soft_delete_and_restore(session: Session) -> None:
    exchange = make_exchange(session, stage_data())
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    writes.delete_stage(
        session,
        stage=stage,
        expected_version=stage.version,
        actor="x",
        user_id=None,
        reason="duplicate",
    )
    session.commit()
    assert ukraine_people(session) == 0
    assert crud.list_stage_rows(session, exchange_id=exchange.id, deleted=True) == [stage]
    writes.restore_deleted_stage(
        session, stage=stage, expected_version=stage.version, actor="admin", user_id=None
    )
    session.commit()
    assert ukraine_people(session) == 390
    actions = [r.action for r in writes.history(session, entity="stage", entity_id=stage.id)]
    assert actions == ["update", "delete", "create"]


def test_update_exchange_keeps_the_slug_and_records_targets(session: Session) -> None:
    exchange = make_exchange(session)
    data = exchange_data(slug="renamed", title="New title", target=1200)
    with pytest.raises(writes.ReasonRequired):
        writes.update_exchange(session, exchange=exchange, data=data, expected_version=1, actor="x")
    writes.update_exchange(
        session, exchange=exchange, data=data, expected_version=1, actor="x", reason="new deal"
    )
    session.commit()
    detail = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert detail is not None
    assert (detail.title, detail.version, detail.sides[0].target.people) == ("New title", 2, 1200)
    with pytest.raises(writes.Conflict):
        writes.update_exchange(
            session, exchange=exchange, data=data, expected_version=1, actor="y", reason="z"
        )


def test_updated_at_moves_with_each_change(session: Session) -> None:
    exchange = make_exchange(session, stage_data())
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    before = stage.updated_at
    writes.update_stage(
        session, stage=stage, data=stage_data(date=dt.date(2025, 5, 22)), expected_version=1,
        actor="x",
    )  # fmt: skip
    assert stage.updated_at > before


def test_a_correction_says_what_moved_in_the_deal_and_outside_it() -> None:
    def snapshot(*releases: tuple[str, int, bool]) -> dict[str, object]:
        return {
            "releases": [
                {"received_by": party, "kind": "living", "people": people, "outside_deal": outside}
                for party, people, outside in releases
            ]
        }

    before = snapshot(("ukraine", 277, False), ("russia", 246, False))
    after = snapshot(("ukraine", 246, False), ("ukraine", 31, True), ("russia", 246, False))

    assert writes.changed_figures(before, after) == [
        writes.FigureChange("ukraine", "people", 277, 246, None, 31)
    ]
    [change] = writes.changed_figures(before, after)
    assert (change.in_deal_changed, change.outside_changed) == (True, True)
    assert writes.changed_figures(after, after) == []
