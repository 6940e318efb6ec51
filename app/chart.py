"""The cumulative-returns chart as geometry for a server-rendered SVG: pure, no I/O."""

import datetime as dt
from dataclasses import dataclass

from app.models import ExchangeDetail
from app.tally import PeopleFigure, people_figure, people_floor, people_known

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    points: list[tuple[float, float]]
    values: list[int]  # cumulative people after each stage (a lower bound where undisclosed)
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


def _nice_step(top: int) -> int:
    step = 1
    while top / step > 5:
        for factor in (2, 5, 10):
            if top / (step * factor) <= 5:
                return step * factor
        step *= 10
    return step


def cumulative_chart(exchange: ExchangeDetail) -> Chart | None:
    """Cumulative people returned to each side over the stages, with the target line; None
    when there is no stage to draw."""
    stages = exchange.stages
    if not stages:
        return None
    cumulative: dict[str, list[int]] = {side.key: [] for side in exchange.sides}
    figures: dict[str, list[PeopleFigure]] = {side.key: [] for side in exchange.sides}
    exact = {side.key: True for side in exchange.sides}
    for stage in stages:
        for side in stage.sides:
            previous = cumulative[side.key][-1] if cumulative[side.key] else 0
            exact[side.key] = exact[side.key] and people_known(side)
            total = previous + people_floor(side)
            cumulative[side.key].append(total)
            figures[side.key].append(people_figure(total, not exact[side.key]))
    targets = sorted({s.target.people for s in exchange.sides if s.target.people})
    top = max([1, *targets, *(v for values in cumulative.values() for v in values)])
    step = _nice_step(top)
    scale_top = -(-top // step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(index: int) -> float:
        return LEFT + (plot_w * index / (len(stages) - 1) if len(stages) > 1 else plot_w / 2)

    def y_at(value: int) -> float:
        return TOP + plot_h * (1 - value / scale_top)

    series = [
        Series(
            key=side.key,
            name=side.name,
            points=[(x_at(i), y_at(v)) for i, v in enumerate(cumulative[side.key])],
            values=cumulative[side.key],
            figures=figures[side.key],
        )
        for side in exchange.sides
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        targets=[TargetLine(value=t, y=y_at(t)) for t in targets],
        ticks=[Tick(value=v, y=y_at(v)) for v in range(0, scale_top + 1, step)],
        x_labels=[(x_at(0), stages[0].date)]
        + ([(x_at(len(stages) - 1), stages[-1].date)] if len(stages) > 1 else []),
    )
