"""The bundled seed (app/data/seed.json, built from the reference data set): every exchange with
its sources and claims, loaded once however often seed runs. Expected figures are the
reference's own (shared/data/exchanges-reference-v2.md)."""

import datetime as dt

import pytest
from sqlmodel import Session, func, select

from app import crud, seed, writes
from app.models import Exchange, OfficialTotal, Revision, Source, Stage

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def test_bundled_data_holds_the_istanbul_exchange_with_three_stages() -> None:
    exchanges = {e.slug: e for e in seed.bundled_exchanges()}
    assert len(exchanges) == 72
    istanbul = exchanges["istanbul-1000-for-1000"]
    assert [
        (s.date.isoformat(), [r.people for r in s.releases or []]) for s in istanbul.stages
    ] == [
        ("2025-05-23", [390, 390]),
        ("2025-05-24", [307, 307]),
        ("2025-05-25", [303, 303]),
    ]
    assert all(stage.sources for e in exchanges.values() for stage in e.stages)


def test_seed_is_idempotent_and_keeps_every_source(session: Session) -> None:
    assert seed.load(session) == writes.SeedReport(added=72, revised=0)
    session.commit()
    history = session.exec(select(func.count()).select_from(Revision)).one()
    assert seed.load(session) == writes.SeedReport(added=0, revised=0)
    assert session.exec(select(func.count()).select_from(Revision)).one() == history
    assert session.exec(select(func.count()).select_from(Exchange)).one() == 72
    assert session.exec(select(func.count()).select_from(Stage)).one() == 96
    assert session.exec(select(func.count()).select_from(OfficialTotal)).one() == 38
    stored = set(session.exec(select(Source.url)).all())
    stored |= set(session.exec(select(OfficialTotal.url)).all())
    assert len(stored) == 364  # every distinct URL of the reference


def test_seeded_istanbul_tally_is_1000_of_1000(session: Session) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert detail is not None
    ukraine = detail.sides[0]
    assert (ukraine.name, ukraine.returned.people, ukraine.target.people) == ("Ukraine", 1000, 1000)
    assert (ukraine.returned.military, ukraine.returned.civilian, ukraine.percent) == (
        880,
        120,
        100.0,
    )
    assert detail.stages_count == 3
    first_day = crud.get_exchange(session, slug=detail.slug, as_of=dt.date(2025, 5, 23))
    assert first_day is not None
    assert [t.people for t in first_day.tally] == [390, 390]


def test_31_january_2024_is_disputed_with_both_figures_and_who_gave_them(
    session: Session,
) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="2024-01-31-uae-207-195")
    assert detail is not None
    [stage] = detail.stages
    assert stage.status == "disputed"
    ukraine, russia = detail.tally
    assert (ukraine.people, ukraine.range) is not None
    assert ukraine.people == 207
    assert ukraine.range is not None
    assert (ukraine.range["people"].min, ukraine.range["people"].max) == (195, 207)
    assert (russia.people, russia.range, russia.disputed) == (195, None, False)
    claimed = {
        (source.speaks_for, figure.people)
        for source in stage.sources
        for figure in source.figures
        if figure.received_by == "ukraine"
    }
    assert {("ukraine", 207), ("russia", 195)} <= claimed


def test_19_april_2025_counts_the_wounded_outside_the_deal(session: Session) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="2025-04-19-easter-277")
    assert detail is not None
    ukraine, russia = detail.tally
    assert (russia.people, russia.outside_deal.people) == (246, 15)  # 261 in all
    assert (ukraine.people, ukraine.outside_deal.people) == (246, 31)


def test_the_june_2025_bodies_exchange_headlines_remains_against_6000(session: Session) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="2025-istanbul-2-bodies")
    assert detail is not None
    ukraine = detail.tally[0]
    assert (ukraine.headline, ukraine.remains, ukraine.target.remains) == ("remains", 6057, 6000)
    assert ukraine.percent.remains == 101.0
    assert ukraine.range is not None
    assert (ukraine.range["remains"].min, ukraine.range["remains"].max) == (6057, 6060)


def test_the_april_2023_yemen_exchange_has_three_parties(session: Session) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="2023-04-yemen-887-deal")
    assert detail is not None
    assert [p.slug for p in detail.parties] == ["houthis", "yemen-government", "saudi-arabia"]
    assert detail.conflict is not None
    assert detail.conflict.slug == "yemen-war"
    # The first API sees the first two parties as sides a and b; stages show sides only for two.
    assert [side.name for side in detail.sides] == [
        "Houthis (Ansar Allah)",
        "Government of Yemen (internationally recognised)",
    ]
    assert all(stage.sides == [] for stage in detail.stages)


def test_totals_are_per_conflict_beside_the_official_running_total(session: Session) -> None:
    seed.load(session)
    totals = crud.totals(session)
    [war] = [c for c in totals.conflicts if c.slug == "russia-ukraine-war"]
    ukraine = next(p for p in war.parties if p.slug == "ukraine")
    assert (ukraine.people, ukraine.exchanges_count) == (7042, 69)
    assert ukraine.official is not None
    assert (ukraine.official.people, ukraine.official.as_of) == (8050, dt.date(2026, 3, 11))
