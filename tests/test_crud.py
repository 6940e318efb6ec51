"""Tallies from SQL aggregates on both backends: drafts, deletions, many exchanges at once."""

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from app import crud, tally
from app.models import EXCHANGE_STATUSES, Party, Revision, Stage, StageRelease
from tests.factories import add_stage, make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def side(session: Session, slug: str, key: str = "a") -> dict[str, object]:
    detail = crud.get_exchange(session, slug=slug)
    assert detail is not None
    [found] = [s for s in detail.sides if s.key == key]
    return found.model_dump()


def test_first_stage_of_istanbul_is_390_of_1000(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    ukraine = side(session, "istanbul-1000-for-1000")
    assert ukraine["returned"] == {"people": 390, "military": 270, "civilian": 120, "remains": 0}
    assert (ukraine["percent"], ukraine["remaining"], ukraine["undisclosed"]) == (39.0, 610, False)


def test_drafts_and_deleted_stages_never_count(session: Session) -> None:
    exchange = make_exchange(
        session,
        stage_data(a=(270, 120)),
        stage_data(a=(307, 0), date=dt.date(2025, 5, 24), published=False, sources=[]),
    )
    deleted = add_stage(session, exchange, stage_data(a=(303, 0), date=dt.date(2025, 5, 25)))
    deleted.deleted_at = dt.datetime.now(dt.UTC)
    session.add(deleted)
    session.commit()
    detail = crud.get_exchange(session, slug=exchange.slug)
    assert detail is not None
    assert detail.stages_count == 1
    assert [stage.date for stage in detail.stages] == [dt.date(2025, 5, 23)]
    assert detail.sides[0].returned.people == 390


def test_undisclosed_count_is_a_lower_bound(session: Session) -> None:
    make_exchange(
        session, stage_data(a=(270, 120)), stage_data(a=(307, None), date=dt.date(2025, 5, 24))
    )
    ukraine = side(session, "istanbul-1000-for-1000")
    assert ukraine["returned"]["people"] == 697
    assert ukraine["undisclosed"] is True


def test_side_with_nothing_disclosed_says_undisclosed(session: Session) -> None:
    make_exchange(session, stage_data(a=(100, 0), b=(None, None)))
    russia = side(session, "istanbul-1000-for-1000", "b")
    assert russia["returned"] == {"people": None, "military": None, "civilian": None, "remains": 0}
    assert (russia["percent"], russia["undisclosed"]) == (None, True)


def test_remains_are_summed_apart_from_people(session: Session) -> None:
    make_exchange(session, stage_data(a=(0, 0), remains=(1212, 27)), target=None)
    ukraine = side(session, "istanbul-1000-for-1000")
    assert ukraine["returned"] == {"people": 0, "military": 0, "civilian": 0, "remains": 1212}
    assert ukraine["percent"] is None


def test_several_exchanges_are_tallied_in_one_query(session: Session) -> None:
    first = make_exchange(session, stage_data(a=(270, 120)))
    second = make_exchange(session, stage_data(a=(100, 5)), slug="second", target=None)
    empty = make_exchange(session, slug="empty")
    sums = crud.stage_sums_by_exchange(session, exchange_ids=[first.id, second.id, empty.id])
    assert sorted(sums) == [(first.id, "a"), (first.id, "b"), (second.id, "a"), (second.id, "b")]
    by_slug = {e.slug: e for e in crud.list_exchanges(session)}
    assert [s.returned.people for s in by_slug["istanbul-1000-for-1000"].sides] == [390, 390]
    assert [s.returned.people for s in by_slug["second"].sides] == [105, 105]
    assert [s.returned.people for s in by_slug["empty"].sides] == [0, 0]
    assert by_slug["empty"].stages_count == 0


def test_dashboard_order_ranks_every_status() -> None:
    assert sorted(crud.HAPPENING_FIRST) == sorted(EXCHANGE_STATUSES)


def test_happening_first_groups_by_status_then_recent_activity(session: Session) -> None:
    for day, (slug, status) in enumerate(
        [
            ("done-old", "completed"),
            ("stalled", "stalled"),
            ("ongoing-old", "in_progress"),
            ("done-new", "completed"),
            ("announced", "announced"),
            ("ongoing-new", "in_progress"),
        ],
        start=1,
    ):
        make_exchange(session, stage_data(date=dt.date(2025, 6, day)), slug=slug, status=status)
    happening = [e.slug for e in crud.list_exchanges(session, happening_first=True)]
    assert happening == [
        "ongoing-new", "ongoing-old", "announced", "stalled", "done-new", "done-old",
    ]  # fmt: skip
    recent = [e.slug for e in crud.list_exchanges(session)]
    assert recent == [
        "ongoing-new", "announced", "done-new", "ongoing-old", "stalled", "done-old",
    ]  # fmt: skip


def test_totals_add_up_per_side_name(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(200, 0)))
    make_exchange(
        session,
        stage_data(a=(10, 1), b=(None, None)),
        slug="other-war",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )
    totals = {side.name: side for side in crud.totals(session).sides}
    assert totals["Ukraine"].returned.people == 401
    assert (totals["Ukraine"].exchanges_count, totals["Ukraine"].undisclosed) == (2, False)
    assert totals["Russia"].returned.people == 200
    assert (totals["Belarus"].returned.people, totals["Belarus"].undisclosed) == (None, True)


def test_people_is_stored_as_the_sum_of_its_parts(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    ukraine = session.exec(select(Party).where(Party.slug == "ukraine")).one()
    stored = session.exec(select(StageRelease).where(StageRelease.received_by == ukraine.id)).one()
    assert (stored.military, stored.civilian, stored.people) == (270, 120, 390)


def test_every_write_is_in_history(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    revisions = session.exec(select(Revision).order_by(Revision.id)).all()
    assert [(r.entity, r.action, r.actor) for r in revisions] == [
        ("exchange", "create", "test"),
        ("stage", "create", "test"),
    ]
    assert revisions[0].entity_id == exchange.id
    assert revisions[1].after is not None
    assert revisions[1].after["releases"][0]["military"] == 270
    assert revisions[1].after["releases"][0]["received_by"] == "ukraine"


Figures = tuple[
    int | None, int | None, int | None, int | None
]  # military, civilian, people, remains


@pytest.mark.parametrize(
    ("stored", "undisclosed"),
    [
        # Both parts known but no stored total (rows written before people was kept): exact.
        ([(270, 120, 390, None), (100, 5, None, 2), (None, None, 215, None)], False),
        ([(270, 120, None, None), (307, None, None, None), (None, None, None, 10)], True),
        ([(None, 3, None, None), (None, None, None, None)], True),
    ],
)
def test_sql_tally_and_editor_preview_agree(
    session: Session, stored: list[Figures], undisclosed: bool
) -> None:
    """The editor's preview (tally.with_stage) must show what the saved stages will show."""
    exchange = make_exchange(
        session,
        *(
            stage_data(date=dt.date(2025, 5, 23 + day), remains=(remains, None))
            for day, (_, _, _, remains) in enumerate(stored)
        ),
    )
    ukraine = session.exec(select(Party).where(Party.slug == "ukraine")).one()
    rows = session.exec(
        select(StageRelease)
        .join(Stage, col(Stage.id) == StageRelease.stage_id)
        .where(StageRelease.received_by == ukraine.id, StageRelease.kind == "living")
        .order_by(col(Stage.date))
    ).all()
    for row, (military, civilian, people, _) in zip(rows, stored, strict=True):
        row.military, row.civilian, row.people = military, civilian, people
        session.add(row)
    session.commit()
    [from_sql] = [
        sums
        for (_, key), sums in crud.stage_sums_by_exchange(
            session, exchange_ids=[exchange.id]
        ).items()
        if key == "a"
    ]
    previewed = tally.StageSums()
    for military, civilian, people, remains in stored:
        counts = tally.Counts(people=people, military=military, civilian=civilian, remains=remains)
        previewed = tally.with_stage(previewed, counts)
    assert from_sql == previewed
    assert tally.side_tally(from_sql).undisclosed is undisclosed


def _revision(entity: str, entity_id: int, *, day: int, correction: bool) -> Revision:
    return Revision(
        entity=entity,
        entity_id=entity_id,
        action="update",
        actor="editor@example.org",
        at=dt.datetime(2025, 6, day, 9, 30, tzinfo=dt.UTC),
        reason=f"Revised on day {day}",
        is_correction=correction,
    )


def test_the_exchange_page_reads_the_history_the_widget_reads_and_only_its_own(
    session: Session,
) -> None:
    """exchange_page reads the figures' history on the exchange's row and the corrections on
    its stages' rows: the same as figure_history and corrections, never another exchange's."""
    first = make_exchange(session, stage_data(a=(270, 120)), slug="first", title="First")
    add_stage(session, first, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    second = make_exchange(session, stage_data(a=(90, 0)), slug="second", title="Second")
    make_exchange(session, stage_data(a=(10, 0)), slug="quiet", title="Quiet")
    stage_ids = {
        slug: [stage.id for stage in crud.get_exchange(session, slug=slug).stages]  # type: ignore[union-attr]
        for slug in ("first", "second", "quiet")
    }
    session.add_all(
        [
            _revision("stage", stage_ids["first"][1], day=3, correction=True),
            _revision("stage", stage_ids["first"][1], day=2, correction=True),
            _revision("stage", stage_ids["first"][0], day=4, correction=False),
            _revision("exchange", second.id or 0, day=9, correction=True),
        ]
    )
    session.commit()
    for slug in ("first", "second", "quiet"):
        page = crud.exchange_page(session, slug=slug)
        assert page is not None
        assert page.exchange == crud.get_exchange(session, slug=slug)
        widget = crud.figure_history(session, slug=slug, stage_ids=stage_ids[slug])
        assert (page.history.corrected, page.history.changed) == (
            widget.corrected,
            widget.changed,
        )
        corrections = crud.corrections(session, stage_ids=stage_ids[slug])
        assert page.history.stage_corrections == corrections
    first_page = crud.exchange_page(session, slug="first")
    assert first_page is not None
    reasons = [r.reason for r in first_page.history.stage_corrections[stage_ids["first"][1]]]
    assert reasons == ["Revised on day 2", "Revised on day 3"]  # oldest first
    quiet_page = crud.exchange_page(session, slug="quiet")
    assert quiet_page is not None
    assert not quiet_page.history.corrected  # other exchanges' corrections are theirs
    assert crud.exchange_page(session, slug="no-such") is None
