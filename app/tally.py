"""The counting rules: from per-side stage aggregates to the figures every page shows.

Pure functions over numbers: no FastAPI, no session, no I/O. `crud` feeds them SQL aggregates.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

Qualifier = Literal["exact", "about", "at_least"]
Measure = Literal["people", "military", "civilian", "remains"]
Headline = Literal["people", "remains"]
HEADLINES: tuple[Headline, ...] = ("people", "remains")
StageStatus = Literal["reported", "confirmed", "disputed"]
MEASURES: tuple[Measure, ...] = ("people", "military", "civilian", "remains")

ALMOST_ALL = Decimal("99.9")  # the most a percent short of its target may read


@dataclass(frozen=True)
class Counts:
    people: int | None = None
    military: int | None = None
    civilian: int | None = None
    remains: int | None = None


@dataclass(frozen=True)
class StageSums:
    """Aggregates over one party's counted releases (of published, undeleted stages), as SQL
    returns them: `stages` counts its living releases, `remains_releases` its remains ones.

    `*_known` count the releases where that figure was disclosed; people count as disclosed when
    the total was, or both its parts were. `people_floor` adds each release's people, or the parts
    of it that were disclosed when the total was not. `at_least` and `about` count the releases
    with that qualifier, `*_remains` the remains releases among them.
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
    remains_releases: int = 0
    remains_known: int = 0
    at_least: int = 0
    about: int = 0
    at_least_remains: int = 0
    about_remains: int = 0


@dataclass(frozen=True)
class SideTally:
    returned: Counts
    undisclosed: bool
    percent: float | None
    remaining: int | None


def side_tally(sums: StageSums, target: Counts | None = None) -> SideTally:
    """Tally one side against its target (PRODUCT.md, "Tally")."""
    if sums.stages == 0:  # no living people moved (remains may have)
        returned = Counts(people=0, military=0, civilian=0, remains=sums.remains)
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
    side (its living release, and its remains release when remains are given): what an
    editor's preview shows before the stage is saved."""
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
        remains_releases=sums.remains_releases + sign * (counts.remains is not None),
        remains_known=sums.remains_known + sign * (counts.remains is not None),
        at_least=sums.at_least,
        about=sums.about,
        at_least_remains=sums.at_least_remains,
        about_remains=sums.about_remains,
    )


# ---- tally v2: per receiving party, qualifiers, ranges, headline, derived status ------------


@dataclass(frozen=True)
class Percents:
    people: float | None = None
    military: float | None = None
    civilian: float | None = None
    remains: float | None = None


@dataclass(frozen=True)
class PartyTally:
    """One receiving party's tally against the terms in force (PRODUCT.md, "Tally")."""

    counts: Counts
    undisclosed: bool
    qualifier: Qualifier
    qualifiers: dict[Headline, Qualifier]
    outside_people: int
    outside_remains: int
    target: Counts
    percent: Percents
    remaining: Counts
    range: dict[Measure, tuple[int, int]] | None
    disputed: bool


def qualifier_of(sums: StageSums, measure: Headline | None = None) -> Qualifier:
    """`at_least` when any counted release has an unknown part or says "at least", else `about`
    when any says "about", else `exact`: over every release, or over those of one headline
    `measure` (living releases for people, remains releases for remains), so that an
    undisclosed living release never makes "at least 6,057 bodies"."""
    unknown_people = sums.people_known < sums.stages
    unknown_remains = sums.remains_known < sums.remains_releases
    at_least, about = sums.at_least, sums.about
    if measure == "people":
        unknown_remains = False
        at_least, about = at_least - sums.at_least_remains, about - sums.about_remains
    elif measure == "remains":
        unknown_people = False
        at_least, about = sums.at_least_remains, sums.about_remains
    if at_least or unknown_people or unknown_remains:
        return "at_least"
    return "about" if about else "exact"


def party_tally(
    sums: StageSums,
    outside: StageSums | None = None,
    target: Counts | None = None,
    *,
    spreads: dict[Measure, list[tuple[int, int, int]]] | None = None,
    disputed: bool = False,
) -> PartyTally:
    """Tally one receiving party: `sums` over its releases in the deal, `outside` over those
    beside it (never toward a target), and `spreads` per measure: (counted, lowest, highest)
    for each stage where the announcers' figures disagree."""
    side = side_tally(sums, target)
    target = target or Counts()
    counts = side.returned
    percent = Percents(
        people=side.percent,
        military=percent_of(counts.military, target.military),
        civilian=percent_of(counts.civilian, target.civilian),
        remains=percent_of(counts.remains if sums.remains_releases else 0, target.remains),
    )
    remaining = Counts(
        people=side.remaining,
        military=remaining_of(counts.military, target.military),
        civilian=remaining_of(counts.civilian, target.civilian),
        remains=remaining_of(counts.remains, target.remains),
    )
    outside = outside or StageSums()
    return PartyTally(
        counts=counts,
        undisclosed=side.undisclosed,
        qualifier=qualifier_of(sums),
        qualifiers={measure: qualifier_of(sums, measure) for measure in HEADLINES},
        outside_people=outside.people_floor,
        outside_remains=outside.remains,
        target=target,
        percent=percent,
        remaining=remaining,
        range=claimed_range(counts, spreads or {}),
        disputed=disputed,
    )


def claimed_range(
    counts: Counts, spreads: dict[Measure, list[tuple[int, int, int]]]
) -> dict[Measure, tuple[int, int]] | None:
    """The lowest and highest totals the announcers' figures give, per measure where they
    disagree: each disagreeing stage's counted figure swapped for its lowest, or its highest."""
    found: dict[Measure, tuple[int, int]] = {}
    for measure in MEASURES:
        total = getattr(counts, measure)
        stages = spreads.get(measure, [])
        if total is None or not any(low != high for _, low, high in stages):
            continue
        low = total - sum(counted - lowest for counted, lowest, _ in stages)
        high = total + sum(highest - counted for counted, _, highest in stages)
        found[measure] = (max(low, 0), high)
    return found or None


def stage_spread(counted: int | None, claimed: Iterable[int | None]) -> tuple[int, int, int] | None:
    """(counted, lowest, highest) of one stage's measure over the release and its claims, when
    they disagree; None when they agree or the release holds no figure."""
    if counted is None:
        return None
    values = [counted, *(value for value in claimed if value is not None)]
    low, high = min(values), max(values)
    return (counted, low, high) if low != high else None


def headline_measure(targets: Sequence[Counts], tallies: Sequence[Counts]) -> Headline:
    """What an exchange is about: remains when its deal is of remains, or when only remains
    moved; people otherwise. Nothing headlines "0 returned" where only bodies came home."""
    if any(t.remains for t in targets) and not any(t.people for t in targets):
        return "remains"
    moved_people = any(t.people for t in tallies)
    moved_remains = any(t.remains for t in tallies)
    return "remains" if moved_remains and not moved_people else "people"


@dataclass(frozen=True)
class Figures:
    """A release or an announcer's figures for one receiving party and kind."""

    received_by: str
    kind: str
    military: int | None = None
    civilian: int | None = None
    people: int | None = None
    remains: int | None = None
    released_by: str | None = None

    def measures(self) -> dict[Measure, int]:
        return {m: value for m in MEASURES if (value := getattr(self, m)) is not None}


@dataclass(frozen=True)
class Claim:
    """One source's figures, with whom its announcer speaks for (a party, "independent", or
    None for the press)."""

    speaks_for: str | None
    figures: Figures


def _agree(a: Figures, b: Figures) -> bool | None:
    """Whether two figures agree on every measure both give; None when they share none."""
    shared = a.measures().keys() & b.measures().keys()
    if not shared:
        return None
    return all(a.measures()[m] == b.measures()[m] for m in shared)


def disputed_claims(claims: Sequence[Claim]) -> list[int]:
    """The positions of the claims that another claim for the same receiving party and kind
    contradicts: what a reader is shown as "disputed: Moscow says 195"."""
    found: set[int] = set()
    for index, first in enumerate(claims):
        for later, second in enumerate(claims[index + 1 :], start=index + 1):
            same = (first.figures.received_by, first.figures.kind) == (
                second.figures.received_by,
                second.figures.kind,
            )
            if same and _agree(first.figures, second.figures) is False:
                found |= {index, later}
    return sorted(found)


def stage_status(
    releases: Sequence[Figures], claims: Sequence[Claim], *, disputed_reason: str | None = None
) -> StageStatus:
    """Derived, never typed: `disputed` when two sources' figures differ for the same receiving
    party, kind and measure (or an editor gave a reason); `confirmed` when, for every release,
    figures from both the releasing and the receiving side, or from an independent announcer,
    agree with it; `reported` otherwise."""
    if disputed_reason or disputed_claims(claims):
        return "disputed"
    if not releases:
        return "reported"
    for release in releases:
        agreeing = {
            claim.speaks_for
            for claim in claims
            if (claim.figures.received_by, claim.figures.kind)
            == (release.received_by, release.kind)
            and _agree(claim.figures, release)
        }
        both_sides = {release.received_by, release.released_by} <= agreeing
        if not (both_sides or "independent" in agreeing):
            return "reported"
    return "confirmed"


@dataclass(frozen=True)
class HeadlineFigure:
    """A party's headline figure as every rendering words it: "at least 697 of 1,000 returned",
    "about 1,200", "6,057 bodies of 6,000", or undisclosed (no `count`, and no percent beside
    it, where one would mislead)."""

    measure: Headline
    count: int | None
    qualifier: Qualifier
    target: int | None
    percent: float | None


def headline_figure(
    measure: Headline,
    counts: Counts,
    *,
    undisclosed: bool,
    qualifier: Qualifier,
    target: Counts,
    percent: Percents,
) -> HeadlineFigure:
    """The headline measure's figure; a floor of 0 tells a reader nothing, so it is undisclosed."""
    count = counts.remains if measure == "remains" else counts.people
    unknown = count is None or (count == 0 and (undisclosed or qualifier == "at_least"))
    if measure == "people" and undisclosed:
        qualifier = "at_least"
    return HeadlineFigure(
        measure=measure,
        count=None if unknown else count,
        qualifier=qualifier,
        target=getattr(target, measure),
        percent=None if unknown else getattr(percent, measure),
    )
