"""The synthetic data set: exact row counts, a realistic mix, the same data for the same seed."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from app import crud, sample_data
from app.cli import cli
from app.db import make_engine, metadata
from app.models import (
    Exchange,
    ExchangeParty,
    Party,
    Source,
    Stage,
    StageRelease,
    Terms,
    TermsTarget,
)
from app.timeline import TimelineFilters, timeline_page

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

SMALL = {"exchanges": 5, "stages": 300}
REMAINS_RELEASES = 30  # beside the 600 living ones: one side in twenty also returned remains


def count(session: Session, model: Any) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def snapshot(engine: Engine) -> list[tuple[Any, ...]]:
    """Every generated release with its stage, exchange, target and source, ids left out."""
    query = (
        select(
            col(Exchange.slug),
            col(Exchange.title),
            col(TermsTarget.people),
            col(Stage.date),
            col(Stage.status),
            col(Stage.notes),
            col(Stage.published),
            col(Stage.created_at),
            col(Party.slug),
            col(StageRelease.kind),
            col(StageRelease.military),
            col(StageRelease.civilian),
            col(StageRelease.people),
            col(StageRelease.remains),
            col(Source.url),
            col(Source.publisher),
        )
        .join(Stage, col(Stage.exchange_id) == Exchange.id)
        .join(StageRelease, col(StageRelease.stage_id) == Stage.id)
        .join(Party, col(Party.id) == StageRelease.received_by)
        .join(TermsTarget, col(TermsTarget.received_by) == StageRelease.received_by)
        .where(
            col(TermsTarget.terms_id).in_(
                select(col(Terms.id)).where(col(Terms.exchange_id) == Exchange.id)
            )
        )
        .join(Source, col(Source.stage_id) == Stage.id)
        .order_by(col(Stage.id), col(StageRelease.position))
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def sqlite_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def test_exact_row_counts(engine: Engine, session: Session) -> None:
    sample_data.generate(engine, **SMALL, seed=1)
    assert count(session, Exchange) == 5
    assert count(session, ExchangeParty) == 10
    assert count(session, Stage) == 300
    assert count(session, StageRelease) == 600 + REMAINS_RELEASES
    assert count(session, Source) == 300
    slugs = session.scalars(select(col(Exchange.slug)).order_by(col(Exchange.slug))).all()
    assert slugs == ["sample-0001", "sample-0002", "sample-0003", "sample-0004", "sample-0005"]


def test_a_realistic_mix(engine: Engine, session: Session) -> None:
    sample_data.generate(engine, **SMALL, seed=1)
    stages = session.scalars(select(Stage)).all()
    assert {stage.status for stage in stages} == {"reported", "confirmed", "disputed"}
    assert 1 <= sum(not stage.published for stage in stages) <= 30  # about 5 % drafts
    assert all(sample_data.FIRST_DAY <= stage.date <= sample_data.LAST_DAY for stage in stages)
    assert all(stage.created_at.tzinfo == dt.UTC for stage in stages)
    assert sum(sample_data.SEARCH_WORD in stage.notes for stage in stages) in range(10, 100)
    releases = session.scalars(select(StageRelease)).all()
    assert any(release.military is None for release in releases)
    assert any(release.people is None for release in releases)
    assert any(release.remains is not None for release in releases)
    targets = set(session.scalars(select(col(TermsTarget.people))))
    assert targets == {1000, None}
    urls = session.scalars(select(col(Source.url))).all()
    assert all(url.startswith("https://") for url in urls)


def test_same_seed_same_data_on_every_backend(engine: Engine, tmp_path: Path) -> None:
    sample_data.generate(engine, **SMALL, seed=1)
    same, other = sqlite_engine(tmp_path / "same.db"), sqlite_engine(tmp_path / "other.db")
    try:
        sample_data.generate(same, **SMALL, seed=1)
        sample_data.generate(other, **SMALL, seed=2)
        assert len(snapshot(engine)) == 600 + REMAINS_RELEASES
        assert snapshot(engine) == snapshot(same)
        assert snapshot(engine) != snapshot(other)
    finally:
        same.dispose()
        other.dispose()


def test_tallies_and_totals_add_up(engine: Engine, session: Session) -> None:
    sample_data.generate(engine, **SMALL, seed=1)
    published = session.scalars(select(Stage).where(col(Stage.published).is_(True))).all()
    ids = {stage.id for stage in published}
    people: dict[str, int] = {"ukraine": 0, "russia": 0}
    slugs = dict(session.execute(select(col(Party.id), col(Party.slug))).all())
    for release in session.scalars(select(StageRelease).where(StageRelease.kind == "living")):
        if release.stage_id in ids:
            known = release.people
            people[slugs[release.received_by]] += (
                (release.military or 0) + (release.civilian or 0) if known is None else known
            )

    exchanges = crud.list_exchanges(session)
    assert len(exchanges) == 5
    assert sum(exchange.stages_count for exchange in exchanges) == len(published)
    totals = {side.name: side for side in crud.totals(session).sides}
    assert totals["Ukraine"].returned.people == people["ukraine"]
    assert totals["Russia"].returned.people == people["russia"]
    assert totals["Ukraine"].undisclosed is True
    assert totals["Ukraine"].exchanges_count == 5


def test_search_word_finds_confirmed_stages(engine: Engine, session: Session) -> None:
    sample_data.generate(engine, **SMALL, seed=1)
    filters = TimelineFilters(status="confirmed", q=sample_data.SEARCH_WORD.lower())
    page = timeline_page(session, filters, size=200)
    expected = session.scalars(
        select(func.count())
        .select_from(Stage)
        .where(
            col(Stage.published).is_(True),
            col(Stage.status) == "confirmed",
            col(Stage.notes).contains(sample_data.SEARCH_WORD),
        )
    ).one()
    assert len(page.stages) == expected
    assert expected > 0
    assert all(stage.status == "confirmed" for stage in page.stages)


def test_a_second_run_is_refused(engine: Engine, session: Session) -> None:
    sample_data.generate(engine, exchanges=2, stages=10)
    with pytest.raises(sample_data.SampleDataExists, match="sample-0001"):
        sample_data.generate(engine, exchanges=2, stages=10)
    assert count(session, Stage) == 10


@pytest.mark.parametrize(("exchanges", "stages"), [(0, 1), (-1, 0), (1, -1)])
def test_impossible_sizes_are_refused(tmp_path: Path, exchanges: int, stages: int) -> None:
    engine = sqlite_engine(tmp_path / "empty.db")
    try:
        with pytest.raises(ValueError, match="at least one exchange"):
            sample_data.generate(engine, exchanges=exchanges, stages=stages)
    finally:
        engine.dispose()


def test_no_stages_leaves_exchanges_untouched(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "few.db")
    try:
        sample_data.generate(engine, exchanges=3, stages=0)
        with Session(engine) as session:
            assert count(session, Exchange) == 3
            assert count(session, Stage) == 0
            assert [exchange.stages_count for exchange in crud.list_exchanges(session)] == [0] * 3
    finally:
        engine.dispose()


def test_cli_generate_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'swaptally.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    command = ["generate-sample", "--exchanges", "3", "--stages", "40", "--seed", "2"]

    refused = runner.invoke(cli, command)
    assert (refused.exit_code, refused.stderr) == (
        1,
        "No schema yet: run `swaptally migrate` first.\n",
    )
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    result = runner.invoke(cli, command)
    assert result.exit_code == 0
    assert re.fullmatch(
        r"Generated 3 exchange\(s\) and 40 stage\(s\) in \d+\.\d s\.\n", result.output
    )
    again = runner.invoke(cli, command)
    assert (again.exit_code, again.stderr) == (
        1,
        "Error: sample data is already stored (sample-0001): use a fresh database.\n",
    )

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert (count(session, Exchange), count(session, Stage)) == (3, 40)
            assert count(session, StageRelease) >= 80
    finally:
        engine.dispose()
