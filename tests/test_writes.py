"""Changes are versioned and recorded: conflicts refused, reasons required, deletes restorable."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from app import crud, writes
from app.models import Revision, Stage
from tests.factories import exchange_data, make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


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
        writes.FigureChange("ukraine", "people", 277, 246, 0, 31)
    ]
    [change] = writes.changed_figures(before, after)
    assert (change.in_deal_changed, change.outside_changed) == (True, True)
    assert writes.changed_figures(after, after) == []


def _edit(session: Session, stage_id: int, data: writes.StageCreate, based_on: int) -> None:
    """An editor's save: merged with what was saved since `based_on`, then saved."""
    stage = session.get(Stage, stage_id)
    assert stage is not None
    merged = writes.merge_stage(session, stage=stage, data=data, based_on=based_on)
    writes.update_stage(
        session, stage=stage, data=merged.data, expected_version=merged.version,
        actor="b@example.org", reason="merged",
    )  # fmt: skip
    session.commit()


def test_two_editors_changing_different_fields_both_keep_their_change(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120), notes="as announced"))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert stage.id is not None
    # The first editor corrects the civilians; the second, still on version 1, the notes.
    _edit(session, stage.id, stage_data(a=(270, 125), notes="as announced"), based_on=1)
    merged = writes.merge_stage(
        session, stage=stage, data=stage_data(a=(270, 120), notes="Kyiv's figures"), based_on=1
    )
    assert merged.theirs == ["releases"]
    _edit(session, stage.id, stage_data(a=(270, 120), notes="Kyiv's figures"), based_on=1)
    stored = writes.stage_snapshot(session, stage, with_sides=False)
    assert (stored["notes"], stored["releases"][0]["civilian"], stage.version) == (
        "Kyiv's figures", 125, 3,
    )  # fmt: skip


def test_two_editors_changing_one_field_differently_is_a_clash(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120), notes="as announced"))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert stage.id is not None
    _edit(session, stage.id, stage_data(a=(270, 120), notes="first editor's"), based_on=1)
    mine = stage_data(a=(270, 121), notes="second editor's")
    with pytest.raises(writes.Conflict) as conflict:
        writes.merge_stage(session, stage=stage, data=mine, based_on=1)
    assert conflict.value.clashes == ["notes"]
    assert conflict.value.merged is not None
    assert conflict.value.base is not None
    assert conflict.value.merged["notes"] == "second editor's"
    assert conflict.value.merged["releases"][0]["civilian"] == 121  # only theirs to change
    assert conflict.value.base["notes"] == "as announced"
    assert conflict.value.by is not None
    assert conflict.value.by.actor == "b@example.org"
    # Choosing theirs keeps the stored notes and still takes the editor's own civilians.
    chosen = writes.merge_stage(
        session, stage=stage, data=mine, based_on=stage.version, keep_theirs={"notes"}
    )
    assert chosen.data.notes == "first editor's"
    assert chosen.data.releases is not None
    assert chosen.data.releases[0].civilian == 121


def test_the_same_change_twice_is_no_clash(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert stage.id is not None
    _edit(session, stage.id, stage_data(a=(270, 120), notes="same"), based_on=1)
    merged = writes.merge_stage(
        session, stage=stage, data=stage_data(a=(270, 120), notes="same"), based_on=1
    )
    assert (merged.data.notes, merged.theirs) == ("same", [])


def test_an_edit_of_a_version_history_lacks_is_never_merged(session: Session) -> None:
    """Revisions written before 0007 name no version: no base, so every field is shown."""
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert stage.id is not None
    _edit(session, stage.id, stage_data(a=(270, 120), notes="newer"), based_on=1)
    for revision in session.exec(select(Revision)):
        revision.version = None
        session.add(revision)
    session.commit()
    with pytest.raises(writes.Conflict) as conflict:
        writes.merge_stage(session, stage=stage, data=stage_data(a=(1, 1)), based_on=1)
    assert conflict.value.clashes == ["notes", "releases"]  # those that differ
    assert conflict.value.merged is None


def test_a_merge_the_schema_refuses_is_a_clash_not_an_error(session: Session) -> None:
    """Found in review: one editor removes the draft's only source, the other publishes it;
    each is valid, together they are a published stage without a source."""
    exchange = make_exchange(session, stage_data(a=(270, 120), published=False))
    [stage] = crud.list_stage_rows(session, exchange_id=exchange.id)
    assert stage.id is not None
    _edit(session, stage.id, stage_data(a=(270, 120), published=False, sources=[]), based_on=1)
    with pytest.raises(writes.Conflict) as conflict:
        writes.merge_stage(
            session, stage=stage, data=stage_data(a=(270, 120), published=True), based_on=1
        )
    assert conflict.value.clashes == ["published", "sources"]
