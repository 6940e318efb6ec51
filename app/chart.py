"""The cumulative-returns chart as geometry for a server-rendered SVG: pure, no I/O."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from app.models import ExchangeDetail, PartyTallyPublic, ReleasePublic
from app.tally import Headline, PeopleFigure, people_figure, people_floor, people_known

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    points: list[tuple[float, float]]
    values: list[int]  # cumulative count after each stage (a lower bound where undisclosed)
    figures: list[PeopleFigure]  # the same, as they read: "at least N" once a stage is unknown

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass(frozen=True)
class TargetLine:
    value: int
    y: float


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    targets: list[TargetLine]
    ticks: list[Tick]
    x_labels: list[tuple[float, dt.date]]  # under the first and the last stage
    left: int = LEFT
    right: int = WIDTH - RIGHT


@dataclass(frozen=True)
class _Line:
    key: str
    name: str
    values: list[int]
    figures: list[PeopleFigure]


def _nice_step(top: int) -> int:
    step = 1
    while top / step > 5:
        for factor in (2, 5, 10):
            if top / (step * factor) <= 5:
                return step * factor
        step *= 10
    return step


def _drawn(dates: Sequence[dt.date], lines: list[_Line], targets: list[int]) -> Chart:
    top = max([1, *targets, *(v for line in lines for v in line.values)])
    step = _nice_step(top)
    scale_top = -(-top // step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(index: int) -> float:
        return LEFT + (plot_w * index / (len(dates) - 1) if len(dates) > 1 else plot_w / 2)

    def y_at(value: int) -> float:
        return TOP + plot_h * (1 - value / scale_top)

    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=[
            Series(
                key=line.key,
                name=line.name,
                points=[(x_at(i), y_at(v)) for i, v in enumerate(line.values)],
                values=line.values,
                figures=line.figures,
            )
            for line in lines
        ],
        targets=[TargetLine(value=t, y=y_at(t)) for t in targets],
        ticks=[Tick(value=v, y=y_at(v)) for v in range(0, scale_top + 1, step)],
        x_labels=[(x_at(0), dates[0])]
        + ([(x_at(len(dates) - 1), dates[-1])] if len(dates) > 1 else []),
    )


def _received(releases: Sequence[ReleasePublic], party: str, measure: Headline) -> tuple[int, bool]:
    """What one stage gave `party` in the deal, in `measure`: (the fewest it can be, whether that
    is exact)."""
    counted = [r for r in releases if r.received_by == party and not r.outside_deal]
    if measure == "remains":
        remains = [r.remains for r in counted if r.kind == "remains"]
        return sum(value or 0 for value in remains), None not in remains
    living = [r for r in counted if r.kind == "living"]
    return sum(people_floor(r) for r in living), all(people_known(r) for r in living)


def _line(exchange: ExchangeDetail, key: str, name: str, party: str, measure: Headline) -> _Line:
    total, exact, values, figures = 0, True, [], []
    for stage in exchange.stages:
        count, known = _received(stage.releases, party, measure)
        total, exact = total + count, exact and known
        values.append(total)
        figures.append(people_figure(total, not exact))
    return _Line(key, name, values, figures)


def cumulative_chart(exchange: ExchangeDetail) -> Chart | None:
    """Cumulative people returned to each of the first API's two sides (the first two parties)
    over the stages, with the target line; None when there is no stage to draw."""
    if not exchange.stages:
        return None
    parties = [party.slug for party in exchange.parties]
    lines = [
        _line(exchange, side.key, side.name, party, "people")
        for side, party in zip(exchange.sides, parties, strict=False)
    ]
    targets = sorted({s.target.people for s in exchange.sides if s.target.people})
    return _drawn([stage.date for stage in exchange.stages], lines, targets)


def tally_chart(
    exchange: ExchangeDetail, parties: Sequence[tuple[str, PartyTallyPublic]]
) -> Chart | None:
    """Cumulative returns to each of `parties` ((series key, its tally)) over the stages, in
    each party's headline measure (bodies for a deal of remains), with the target lines; None
    when there is no stage to draw."""
    if not exchange.stages or not parties:
        return None
    lines = [
        _line(exchange, key, party.name, party.received_by, party.headline)
        for key, party in parties
    ]
    targets = sorted({target for _, party in parties if (target := party.figure.target)})
    return _drawn([stage.date for stage in exchange.stages], lines, targets)
