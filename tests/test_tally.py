"""The counting rules, without a database: each case names the rule it guards."""

import pytest

from app.tally import (
    Counts,
    PeopleFigure,
    StageSums,
    bar_fraction,
    headline_figure,
    party_tally,
    people_figure,
    percent_of,
    qualifier_of,
    remaining_of,
    side_tally,
    stage_people,
    with_stage,
)


def sums(*stages: tuple[int | None, int | None, int | None, int | None]) -> StageSums:
    """Aggregate (military, civilian, people, remains) per stage the way crud's SQL does."""
    known = list(stages)
    return StageSums(
        stages=len(known),
        military=sum(m for m, _, _, _ in known if m is not None),
        military_known=sum(1 for m, _, _, _ in known if m is not None),
        civilian=sum(c for _, c, _, _ in known if c is not None),
        civilian_known=sum(1 for _, c, _, _ in known if c is not None),
        people_floor=sum(p if p is not None else (m or 0) + (c or 0) for m, c, p, _ in known),
        people_known=sum(
            1 for m, c, p, _ in known if p is not None or (m is not None and c is not None)
        ),
        any_people_known=sum(1 for m, c, p, _ in known if (m, c, p) != (None, None, None)),
        remains=sum(r for _, _, _, r in known if r is not None),
        # A stage's remains are a release of their own beside its living one.
        remains_releases=sum(1 for _, _, _, r in known if r is not None),
        remains_known=sum(1 for _, _, _, r in known if r is not None),
    )


THOUSAND = Counts(people=1000)


def test_istanbul_first_day_is_390_of_1000() -> None:
    result = side_tally(sums((270, 120, 390, None)), THOUSAND)
    assert result.returned == Counts(people=390, military=270, civilian=120, remains=0)
    assert (result.percent, result.remaining, result.undisclosed) == (39.0, 610, False)


def test_istanbul_complete_is_1000_of_1000() -> None:
    stages = sums((270, 120, 390, None), (307, 0, 307, None), (303, 0, 303, None))
    result = side_tally(stages, THOUSAND)
    assert result.returned == Counts(people=1000, military=880, civilian=120, remains=0)
    assert (result.percent, result.remaining, result.undisclosed) == (100.0, 0, False)


def test_over_target_shows_over_100_percent_and_nothing_remaining() -> None:
    result = side_tally(sums((1012, 0, 1012, None)), THOUSAND)
    assert (result.percent, result.remaining) == (101.2, 0)
    assert bar_fraction(result.percent) == 1.0


def test_no_target_means_no_percent_and_no_remaining() -> None:
    result = side_tally(sums((144, 0, 144, None)), Counts())
    assert result.returned.people == 144
    assert (result.percent, result.remaining) == (None, None)


def test_zero_stages_is_zero_returned_not_undisclosed() -> None:
    result = side_tally(StageSums(), THOUSAND)
    assert result.returned == Counts(people=0, military=0, civilian=0, remains=0)
    assert (result.percent, result.remaining, result.undisclosed) == (0.0, 1000, False)


def test_unknown_civilian_count_makes_people_a_lower_bound() -> None:
    result = side_tally(sums((270, 120, 390, None), (307, None, None, None)), THOUSAND)
    assert result.returned.people == 697
    assert result.undisclosed is True
    assert result.returned.civilian == 120


def test_nothing_disclosed_is_undisclosed_never_zero() -> None:
    result = side_tally(sums((None, None, None, None)), THOUSAND)
    assert result.returned.people is None
    assert (result.percent, result.remaining, result.undisclosed) == (None, None, True)


def test_reported_total_without_split_is_exact() -> None:
    result = side_tally(sums((None, None, 215, None)), Counts())
    assert result.returned == Counts(people=215, military=None, civilian=None, remains=0)
    assert result.undisclosed is False


def test_remains_never_count_as_people() -> None:
    result = side_tally(sums((0, 0, 0, 1212), (0, 0, 0, 1200)), THOUSAND)
    assert result.returned == Counts(people=0, military=0, civilian=0, remains=2412)
    assert result.percent == 0.0


def test_unknown_remains_do_not_make_people_uncertain() -> None:
    result = side_tally(sums((100, 0, 100, None), (50, 0, 50, 20)), Counts())
    assert (result.returned.people, result.returned.remains, result.undisclosed) == (150, 20, False)


@pytest.mark.parametrize(
    ("returned", "target", "expected"),
    [
        (697, 1000, 69.7),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 8, 12.5),
        (None, 1000, None),
        (5, None, None),
        (5, 0, None),
        (0, 1000, 0.0),
        (999, 1000, 99.9),
        (9996, 10000, 99.9),  # 99.96 would round to 100.0 though one person is still held
        (199_999, 200_000, 99.9),
        (1000, 1000, 100.0),
        (1001, 1000, 100.1),
        (10_001, 10_000, 100.0),  # over the target by a hair: may read 100.0
    ],
)
def test_percent_rounds_half_up_and_reads_100_only_once_reached(
    returned: int | None, target: int | None, expected: float | None
) -> None:
    assert percent_of(returned, target) == expected


@pytest.mark.parametrize(
    ("returned", "target", "expected"), [(697, 1000, 303), (1200, 1000, 0), (None, 10, None)]
)
def test_remaining_is_never_negative(
    returned: int | None, target: int | None, expected: int | None
) -> None:
    assert remaining_of(returned, target) == expected


@pytest.mark.parametrize(("percent", "fraction"), [(None, 0.0), (39.0, 0.39), (150.0, 1.0)])
def test_bar_is_clamped(percent: float | None, fraction: float) -> None:
    assert bar_fraction(percent) == fraction


def test_with_stage_adds_and_takes_away_exactly_what_sql_would_count() -> None:
    first, second = (270, 120, 390, None), (307, None, None, 5)
    both = sums(first, second)
    added = with_stage(sums(first), Counts(military=307, remains=5))
    assert added == both
    assert with_stage(both, Counts(military=307, remains=5), sign=-1) == sums(first)
    assert side_tally(added, THOUSAND).returned.people == 697


@pytest.mark.parametrize(
    ("people", "undisclosed", "figure"),
    [
        (697, False, PeopleFigure(count=697)),
        (697, True, PeopleFigure(count=697, at_least=True)),
        (0, False, PeopleFigure(count=0)),
        (0, True, PeopleFigure(count=None)),  # never "at least 0"
        (None, True, PeopleFigure(count=None)),
    ],
)
def test_people_figure_reads_exact_at_least_or_undisclosed(
    people: int | None, undisclosed: bool, figure: PeopleFigure
) -> None:
    assert people_figure(people, undisclosed) == figure


@pytest.mark.parametrize(
    ("counts", "figure"),
    [
        (Counts(people=390, military=270, civilian=120), PeopleFigure(count=390)),
        (Counts(military=270, civilian=120), PeopleFigure(count=390)),
        (Counts(people=215), PeopleFigure(count=215)),
        (Counts(military=270), PeopleFigure(count=270, at_least=True)),
        (Counts(people=40, military=30), PeopleFigure(count=40)),
        (Counts(civilian=0), PeopleFigure(count=None)),
        (Counts(remains=5), PeopleFigure(count=None)),
    ],
)
def test_stage_people_is_exact_or_a_floor(counts: Counts, figure: PeopleFigure) -> None:
    assert stage_people(counts) == figure


def test_the_headline_qualifier_reads_only_its_own_measures_releases() -> None:
    # A remains deal: 6,057 bodies, exactly; beside them a living release with nothing disclosed.
    bodies = StageSums(stages=1, remains=6057, remains_releases=1, remains_known=1)
    about = StageSums(
        **vars(bodies) | {"remains_releases": 2, "remains_known": 2, "about": 1, "about_remains": 1}
    )
    floor = StageSums(**vars(bodies) | {"at_least": 1})  # the living release says "at least"

    assert (qualifier_of(bodies), qualifier_of(bodies, "remains")) == ("at_least", "exact")
    assert qualifier_of(bodies, "people") == "at_least"
    assert (qualifier_of(about, "remains"), qualifier_of(about, "people")) == ("about", "at_least")
    assert (qualifier_of(floor, "remains"), qualifier_of(floor, "people")) == ("exact", "at_least")
    tallied = party_tally(bodies, target=Counts(remains=6000))
    assert tallied.qualifiers == {"people": "at_least", "remains": "exact"}
    figure = headline_figure(
        "remains", tallied.counts, undisclosed=tallied.undisclosed,
        qualifier=tallied.qualifiers["remains"], target=tallied.target, percent=tallied.percent,
    )  # fmt: skip
    assert (figure.count, figure.qualifier, figure.target) == (6057, "exact", 6000)
