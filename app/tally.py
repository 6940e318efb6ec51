"""The counting rules: from per-side stage aggregates to the figures every page shows.

Pure functions over numbers: no FastAPI, no session, no I/O. `crud` feeds them SQL aggregates.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

ALMOST_ALL = Decimal("99.9")  # the most a percent short of its target may read


@dataclass(frozen=True)
class Counts:
    people: int | None = None
    military: int | None = None
    civilian: int | None = None
    remains: int | None = None


@dataclass(frozen=True)
class StageSums:
    """Aggregates over one side's counted stages (published, not deleted), as SQL returns them.

    `*_known` count the stages where that figure was disclosed; people count as disclosed when the
    total was, or both its parts were. `people_floor` adds each stage's people, or the parts of it
    that were disclosed when the total was not.
    """

    stages: int = 0
    military: int = 0
    military_known: int = 0
    civilian: int = 0
    civilian_known: int = 0
    people_floor: int = 0
    people_known: int = 0
    any_people_known: int = 0
    remains: int = 0


@dataclass(frozen=True)
class SideTally:
    returned: Counts
    undisclosed: bool
    percent: float | None
    remaining: int | None


def side_tally(sums: StageSums, target: Counts | None = None) -> SideTally:
    """Tally one side against its target (PRODUCT.md, "Tally")."""
    if sums.stages == 0:
        returned = Counts(people=0, military=0, civilian=0, remains=0)
        undisclosed = False
    else:
        returned = Counts(
            people=sums.people_floor if sums.any_people_known else None,
            military=sums.military if sums.military_known else None,
            civilian=sums.civilian if sums.civilian_known else None,
            # Unknown remains mean none were reported: they never make a total uncertain.
            remains=sums.remains,
        )
        undisclosed = sums.people_known < sums.stages
    target_people = target.people if target else None
    return SideTally(
        returned=returned,
        undisclosed=undisclosed,
        percent=percent_of(returned.people, target_people),
        remaining=remaining_of(returned.people, target_people),
    )


@dataclass(frozen=True)
class PeopleFigure:
    """How a people count reads: no `count` is "undisclosed"; `at_least` makes it a floor."""

    count: int | None
    at_least: bool = False


def people_figure(people: int | None, undisclosed: bool) -> PeopleFigure:
    """A people count as pages show it. A floor of 0 tells a reader nothing, so it reads
    "undisclosed", never "at least 0" (the API keeps the 0 with `undisclosed: true`)."""
    if people is None or (undisclosed and people == 0):
        return PeopleFigure(count=None)
    return PeopleFigure(count=people, at_least=undisclosed)


class StageSideCounts(Protocol):
    """One stage side's counts: a `Counts`, or a stage side as the API shows it."""

    @property
    def people(self) -> int | None: ...
    @property
    def military(self) -> int | None: ...
    @property
    def civilian(self) -> int | None: ...


def people_known(side: StageSideCounts) -> bool:
    """Whether a stage side's people are exact: a reported total, or both parts of the split."""
    return side.people is not None or (side.military is not None and side.civilian is not None)


def people_floor(side: StageSideCounts) -> int:
    """The fewest people a stage side can have returned: its total, else the parts disclosed."""
    if side.people is not None:
        return side.people
    return (side.military or 0) + (side.civilian or 0)


def shown_percent(percent: float | None, figure: PeopleFigure) -> float | None:
    """The percent beside a people figure: none beside "undisclosed", where it would mislead."""
    return percent if figure.count is not None else None


def stage_people(side: StageSideCounts) -> PeopleFigure:
    """One stage side's people as pages and feeds show them: exact, "at least N", or undisclosed."""
    return people_figure(people_floor(side), not people_known(side))


def percent_of(returned: int | None, target: int | None) -> float | None:
    """Percent of the target, one decimal, rounded half up; may exceed 100.

    Short of the target it stays below 100: 9,996 of 10,000 is 99.9 %, never a finished 100.0 %.
    """
    if returned is None or not target:
        return None
    exact = Decimal(returned) * 100 / Decimal(target)
    rounded = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if returned < target:
        rounded = min(rounded, ALMOST_ALL)
    return float(rounded)


def remaining_of(returned: int | None, target: int | None) -> int | None:
    if returned is None or target is None:
        return None
    return max(target - returned, 0)


def bar_fraction(percent: float | None) -> float:
    """How full a progress bar is drawn: the percent, clamped to 0..1 (the figure itself is not)."""
    if percent is None:
        return 0.0
    return min(max(percent / 100, 0.0), 1.0)


def with_stage(sums: StageSums, counts: Counts, *, sign: int = 1) -> StageSums:
    """The aggregates after adding (sign=1) or taking away (sign=-1) one stage's counts for a
    side: what an editor's preview shows before the stage is saved."""
    military, civilian, people = counts.military, counts.civilian, counts.people
    known_any = people is not None or military is not None or civilian is not None
    return StageSums(
        stages=sums.stages + sign,
        military=sums.military + sign * (military or 0),
        military_known=sums.military_known + sign * (military is not None),
        civilian=sums.civilian + sign * (civilian or 0),
        civilian_known=sums.civilian_known + sign * (civilian is not None),
        people_floor=sums.people_floor + sign * people_floor(counts),
        people_known=sums.people_known + sign * people_known(counts),
        any_people_known=sums.any_people_known + sign * known_any,
        remains=sums.remains + sign * (counts.remains or 0),
    )
