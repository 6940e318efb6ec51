"""The bundled seed: real exchanges with their sources, loaded once however often seed runs."""

from sqlmodel import Session, func, select

from app import crud, seed
from app.models import Exchange, Source, Stage


def test_bundled_data_holds_the_istanbul_exchange_with_three_stages() -> None:
    exchanges = {e.slug: e for e in seed.bundled_exchanges()}
    assert len(exchanges) == 26
    istanbul = exchanges["istanbul-1000-for-1000"]
    assert [(s.date.isoformat(), s.sides[0].people) for s in istanbul.stages] == [
        ("2025-05-23", 390),
        ("2025-05-24", 307),
        ("2025-05-25", 303),
    ]
    assert all(stage.sources for e in exchanges.values() for stage in e.stages)


def test_seed_is_idempotent_and_keeps_every_source(session: Session) -> None:
    assert seed.load(session) == 26
    assert seed.load(session) == 0
    assert session.exec(select(func.count()).select_from(Exchange)).one() == 26
    assert session.exec(select(func.count()).select_from(Stage)).one() == 37
    bundled_urls = {
        source.url
        for e in seed.bundled_exchanges()
        for source in [*e.sources, *(s for stage in e.stages for s in stage.sources)]
    }
    stored_urls = set(session.exec(select(Source.url)).all())
    assert stored_urls == bundled_urls


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


def test_seeded_conflicts_are_disputed_with_both_claims_kept(session: Session) -> None:
    seed.load(session)
    detail = crud.get_exchange(session, slug="2024-12-30-uae-189-150")
    assert detail is not None
    [stage] = detail.stages
    assert stage.status == "disputed"
    assert "189" in stage.notes
    assert "150" in stage.notes


def test_handovers_of_remains_alone_return_no_living_people(session: Session) -> None:
    """The reference: "a handover of remains alone has 0 living people", so Russia's side of
    the bodies-only stages is 0 people (exact), with its undisclosed remains left unknown."""
    seed.load(session)
    for slug, remains in (("2025-istanbul-2-bodies", 78), ("2025-2026-body-repatriations", 173)):
        detail = crud.get_exchange(session, slug=slug)
        assert detail is not None
        russia = detail.sides[1]
        assert russia.returned.model_dump() == {
            "people": 0,
            "military": 0,
            "civilian": 0,
            "remains": remains,
        }
        assert russia.undisclosed is False
