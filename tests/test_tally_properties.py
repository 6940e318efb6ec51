"""Properties of the tally, for any set of stages written through app.writes and read back through
app.crud from a real SQLite file, against a small independent model of PRODUCT.md's rules:
totals are the sums of the parts, remains never count as people, drafts and deleted stages never
count, and "at least" shows exactly when a counted stage's people count is unknown."""

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app import crud, writes
from app.db import make_engine, metadata
from app.models import SidePublic, StageCreate
from app.templating import make_templates
from tests.factories import SOURCE, exchange_data

Count = int | None


@dataclass(frozen=True)
class SideCounts:
    military: Count
    civilian: Count
    people: Count  # given only when the source gave a total
    remains: Count


@dataclass(frozen=True)
class StageCase:
    published: bool
    deleted: bool
    a: SideCounts
    b: SideCounts


# ---- the model: PRODUCT.md, "Tally" ------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    people: Count
    military: Count
    civilian: Count
    remains: int
    undisclosed: bool
    percent: float | None
    remaining: Count


def people_of(side: SideCounts) -> Count:
    """A stage's people for a side: the total a source gave, else military + civilian."""
    if side.people is not None:
        return side.people
    if side.military is not None and side.civilian is not None:
        return side.military + side.civilian
    return None


def known_sum(values: list[Count]) -> Count:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def expected(stages: list[StageCase], key: str, target: Count) -> Expected:
    sides = [getattr(s, key) for s in stages if s.published and not s.deleted]
    if not sides:
        return Expected(0, 0, 0, 0, False, 0.0 if target else None, target)
    undisclosed = any(people_of(side) is None for side in sides)
    disclosed = [
        side.people if side.people is not None else (side.military or 0) + (side.civilian or 0)
        for side in sides
        if (side.people, side.military, side.civilian) != (None, None, None)
    ]
    people = sum(disclosed) if disclosed else None
    percent = remaining = None
    if people is not None and target:
        exact = Decimal(people * 100) / Decimal(target)
        percent = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        if people < target:  # short of the target never reads as a finished 100 %
            percent = min(percent, 99.9)
        remaining = max(target - people, 0)
    return Expected(
        people=people,
        military=known_sum([side.military for side in sides]),
        civilian=known_sum([side.civilian for side in sides]),
        remains=sum(side.remains or 0 for side in sides),  # never part of people
        undisclosed=undisclosed,
        percent=percent,
        remaining=remaining,
    )


# ---- strategies --------------------------------------------------------------------------

count = st.none() | st.integers(min_value=0, max_value=400)


@st.composite
def side_counts(draw: st.DrawFn) -> SideCounts:
    remains = draw(count)
    match draw(st.sampled_from(["split", "total", "total and part"])):
        case "split":  # military and civilian, either of which may be undisclosed
            return SideCounts(draw(count), draw(count), None, remains)
        case "total":  # only the total was reported
            return SideCounts(None, None, draw(st.integers(0, 800)), remains)
        case _:  # the total and one part of it
            military = draw(st.integers(0, 400))
            return SideCounts(military, None, military + draw(st.integers(0, 400)), remains)


stage_cases = st.builds(
    StageCase,
    published=st.booleans(),
    deleted=st.booleans() | st.just(False),
    a=side_counts(),
    b=side_counts(),
)


# ---- through the real database -----------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One SQLite file for the module; each example rolls its writes back (writes only flush)."""
    engine = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'tally.db'}")
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


slugs = (f"property-{n}" for n in itertools.count())


def stored_tally(
    session: Session, stages: list[StageCase], target: Count
) -> tuple[dict[str, SidePublic], dict[str, SidePublic]]:
    """The exchange's sides and the all-time totals' sides, by key, as crud computes them."""
    slug = next(slugs)
    exchange = writes.create_exchange(
        session, data=exchange_data(slug=slug, target=target), actor="property"
    )
    for day, case in enumerate(stages):
        sides = [
            {"key": key, **vars(getattr(case, key))}
            for key in "ab"  # people left out becomes military + civilian when both are known
        ]
        data = StageCreate.model_validate(
            {
                "date": dt.date(2025, 5, 1) + dt.timedelta(days=day),
                "status": "confirmed",
                "published": case.published,
                "sides": sides,
                "sources": [SOURCE],
            }
        )
        stage = writes.create_stage(session, exchange=exchange, data=data, actor="property")
        if case.deleted:
            writes.delete_stage(
                session,
                stage=stage,
                expected_version=stage.version,
                actor="property",
                user_id=None,
                reason="x",
            )
    session.flush()
    detail = crud.get_exchange(session, slug=slug)
    assert detail is not None
    totals = {side.name: side for side in crud.totals(session).sides}
    names = {"a": "Ukraine", "b": "Russia"}
    return {side.key: side for side in detail.sides}, {k: totals[n] for k, n in names.items()}


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(stages=st.lists(stage_cases, max_size=6), target=st.none() | st.integers(1, 2000))
@example(stages=[], target=1000)
@example(
    stages=[StageCase(True, False, SideCounts(270, 120, None, 7), SideCounts(None, None, 215, 0))],
    target=1000,
)
def test_the_tally_follows_the_rules(
    sqlite_session: Session, stages: list[StageCase], target: Count
) -> None:
    try:
        sides, totals = stored_tally(sqlite_session, stages, target)
        for key in "ab":
            want = expected(stages, key, target)
            side = sides[key]
            assert side.returned.people == want.people
            assert side.returned.military == want.military
            assert side.returned.civilian == want.civilian
            assert side.returned.remains == want.remains
            assert side.undisclosed is want.undisclosed
            assert (side.percent, side.remaining) == (want.percent, want.remaining)
            # The sum of the parts: what is disclosed of people adds up, remains stay apart.
            if side.returned.people is not None and not side.undisclosed:
                parts = (side.returned.military or 0) + (side.returned.civilian or 0)
                assert side.returned.people >= parts
            # All-time totals are the same sums (this is the only exchange stored).
            total = totals[key]
            assert total.returned == side.returned
            assert total.undisclosed is side.undisclosed
            assert_words(side, want)
    finally:
        sqlite_session.rollback()


TEMPLATES = make_templates()


def assert_words(side: SidePublic, want: Expected) -> None:
    """The page says "at least N" exactly when a counted people count is unknown and its floor
    tells something, and "undisclosed" (never "at least 0", never a percent) otherwise."""
    template = TEMPLATES["en"].env.get_template("public/_side_tally.html")
    html = " ".join(template.render(side=side).split())
    floor_only = want.people is None or (want.undisclosed and want.people == 0)
    assert ("at least" in html) is (want.undisclosed and not floor_only)
    assert ("<strong>undisclosed</strong>" in html) is floor_only
    if floor_only:
        assert 'class="percent"' not in html


# ---- the edges, named ---------------------------------------------------------------------


def test_a_lower_bound_of_zero_reads_undisclosed(sqlite_session: Session) -> None:
    """The API keeps the floor (0, undisclosed); a page says "undisclosed", not "at least 0"."""
    stages = [StageCase(True, False, SideCounts(0, None, None, None), SideCounts(1, 1, None, 0))]
    try:
        sides, _ = stored_tally(sqlite_session, stages, 1000)
        assert (sides["a"].returned.people, sides["a"].undisclosed) == (0, True)
        assert_words(sides["a"], expected(stages, "a", 1000))
    finally:
        sqlite_session.rollback()


def test_below_the_target_the_percent_is_never_100(sqlite_session: Session) -> None:
    stages = [StageCase(True, False, SideCounts(1999, 0, None, None), SideCounts(1, 1, None, 0))]
    try:
        sides, _ = stored_tally(sqlite_session, stages, 2000)
        assert (sides["a"].percent, sides["a"].remaining) == (99.9, 1)
    finally:
        sqlite_session.rollback()
