"""The cumulative-returns chart as geometry for a server-rendered SVG: pure, no I/O.

A `Frame` says what units a chart is drawn in: the embed's widget draws in a 640 x 260 viewBox
that scales; the exchange page draws x in percent of the plot's width and y in CSS pixels, so
its SVG stretches sideways while its text keeps its size."""

import datetime as dt
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from app.models import ExchangeDetail, PartyTallyPublic, ReleasePublic
from app.tally import Headline, PeopleFigure, people_figure, people_floor, people_known


@dataclass(frozen=True)
class Frame:
    """A chart's box in its own units, the plot's margins inside it, and the least distance
    between the middles of two labels beside the plot (so labels never overlap)."""

    width: float
    height: float
    left: float = 0
    right: float = 0
    top: float = 0
    bottom: float = 0


WIDGET = Frame(640, 260, left=56, right=16, top=16, bottom=40)
# x from 0 to 100 (percent of the plot's width), y in CSS px: the plot is PAGE.height px tall.
PAGE = Frame(100, 200)
# The page's text beside and over the plot (app.css ".chart"): 13 px on 16 px lines; a line of a
# label holds LABEL_CHARS characters in the label column, a line of a stage's tip TIP_CHARS.
LINE, LABEL_CHARS, TIP_CHARS = 16, 13, 18

Translated = Callable[[Any, str], str]  # a thing's field in the page's language (templating.py)
Worded = Callable[[PeopleFigure], Markup]  # a figure as pages word it (_figures.html's people)


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken between words (a longer word
    keeps a line of its own)."""
    return textwrap.wrap(text, width, break_long_words=False) or [""]


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    name_uk: str | None
    measure: Headline
    points: list[tuple[float, float]]
    values: list[int]  # cumulative count after each stage (a lower bound where undisclosed)
    figures: list[PeopleFigure]  # the same, as they read: "at least N" once a stage is unknown

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)

    @property
    def short_polyline(self) -> str:
        """The same without ".0" (the widget counts its bytes)."""
        return " ".join(f"{round(x, 1):g},{round(y, 1):g}" for x, y in self.points)


@dataclass(frozen=True)
class TargetLine:
    value: int
    y: float
    label_y: float  # the baseline of its label, above the line and clear of the other targets'


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class StagePoint:
    """One stage on the x axis: its date and where each series stands after it."""

    stage_id: int
    date: dt.date
    x: float
    ys: list[float]  # in the order of the chart's series
    figures: list[PeopleFigure]


@dataclass(frozen=True)
class Label:
    """A series' label beside its last point: its name's lines over its final figure's, each
    wrapped to fit the label column, and the baseline of its first line."""

    name: list[str]
    figure: list[Markup]
    y: float


@dataclass(frozen=True)
class Tip:
    """What a stage's point shows on hover or focus, its date on the first line (at
    baseline `y`) and then each series' name wrapped to `names`, each over its figure; it
    starts at the point (`start`) in the plot's left half, else ends there."""

    names: list[list[str]]
    y: float
    start: bool


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    series: list[Series]
    targets: list[TargetLine]
    ticks: list[Tick]
    stages: list[StagePoint]
    left: float
    right: float

    @property
    def x_labels(self) -> list[tuple[float, dt.date]]:
        """The dates under the first and the last stage."""
        ends = [self.stages[0], self.stages[-1]] if len(self.stages) > 1 else self.stages[:1]
        return [(stage.x, stage.date) for stage in ends]

    @property
    def axis_stages(self) -> list[StagePoint]:
        """The stages whose dates the axis shows: the first, the middle one, the last."""
        last = len(self.stages) - 1
        return [self.stages[i] for i in sorted({0, last // 2, last})]

    @property
    def measure(self) -> Headline:
        """Bodies when every line counts bodies, else people."""
        return "remains" if all(s.measure == "remains" for s in self.series) else "people"

    def labels(self, translated: Translated, worded: Worded) -> list[Label]:
        """Each series' label beside its last point: its name (in the page's language, as
        `translated` gives it) over its final figure (as `worded`), moved apart so none
        overlap."""
        names = [wrapped(translated(s, "name"), LABEL_CHARS) for s in self.series]
        # markup broken between words is still markup: escaping never makes a space
        finals = [
            [Markup(line) for line in wrapped(str(worded(s.figures[-1])), LABEL_CHARS)]
            for s in self.series
        ]
        heights = [LINE * (len(n) + len(f)) for n, f in zip(names, finals, strict=True)]
        tops = spread(
            [s.points[-1][1] - h / 2 for s, h in zip(self.series, heights, strict=True)],
            heights,
            low=0,
            high=self.height,
        )
        return [
            Label(name, final, top + LINE - 4)
            for name, final, top in zip(names, finals, tops, strict=True)
        ]

    def tip(self, stage: StagePoint, translated: Translated) -> Tip:
        """A stage's tip, above its points or, with no room there, below them."""
        lines = [wrapped(translated(s, "name"), TIP_CHARS) for s in self.series]
        height = LINE * (1 + sum(len(name) + 1 for name in lines))
        above = min(stage.ys) - 12 - height
        top = above if above >= 0 else max(stage.ys) + 12
        return Tip(lines, top + LINE - 4, start=stage.x <= (self.left + self.right) / 2)


@dataclass(frozen=True)
class _Line:
    key: str
    name: str
    name_uk: str | None
    measure: Headline
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


def spread(tops: Sequence[float], heights: Sequence[float], low: float, high: float) -> list[float]:
    """Boxes at `tops`, `heights` tall, moved apart (as little as it takes) so that none
    overlaps another, and kept between `low` and `high` where there is room; in the order
    given."""
    order = sorted(range(len(tops)), key=lambda i: tops[i])
    placed = [float(tops[i]) for i in order]
    sizes = [heights[i] for i in order]
    for rank in range(1, len(placed)):
        placed[rank] = max(placed[rank], placed[rank - 1] + sizes[rank - 1])
    for rank in range(len(placed) - 1, -1, -1):
        ceiling = high if rank == len(placed) - 1 else placed[rank + 1]
        placed[rank] = min(placed[rank], ceiling - sizes[rank])
    if placed and placed[0] < low:
        placed = [top + low - placed[0] for top in placed]
    moved = [0.0] * len(tops)
    for rank, i in enumerate(order):
        moved[i] = placed[rank]
    return moved


def _drawn(
    stages: Sequence[tuple[int, dt.date]], lines: list[_Line], targets: list[int], frame: Frame
) -> Chart:
    top = max([1, *targets, *(v for line in lines for v in line.values)])
    step = _nice_step(top)
    scale_top = -(-top // step) * step
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom

    def x_at(index: int) -> float:
        return frame.left + (plot_w * index / (len(stages) - 1) if len(stages) > 1 else plot_w / 2)

    def y_at(value: int) -> float:
        return frame.top + plot_h * (1 - value / scale_top)

    target_ys = [y_at(t) for t in targets]
    # a target's label sits on the line above it, clear of the other targets' labels
    target_tops = spread([y - LINE for y in target_ys], [LINE] * len(targets), -LINE, frame.height)
    return Chart(
        width=frame.width,
        height=frame.height,
        series=[
            Series(
                key=line.key,
                name=line.name,
                name_uk=line.name_uk,
                measure=line.measure,
                points=[(x_at(i), y_at(v)) for i, v in enumerate(line.values)],
                values=line.values,
                figures=line.figures,
            )
            for line in lines
        ],
        targets=[
            TargetLine(value=t, y=y, label_y=label_top + LINE - 4)
            for t, y, label_top in zip(targets, target_ys, target_tops, strict=True)
        ],
        ticks=[Tick(value=v, y=y_at(v)) for v in range(0, scale_top + 1, step)],
        stages=[
            StagePoint(
                stage_id=stage_id,
                date=date,
                x=x_at(i),
                ys=[y_at(line.values[i]) for line in lines],
                figures=[line.figures[i] for line in lines],
            )
            for i, (stage_id, date) in enumerate(stages)
        ],
        left=frame.left,
        right=frame.width - frame.right,
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


def _line(exchange: ExchangeDetail, key: str, party: PartyTallyPublic) -> _Line:
    total, exact, values, figures = 0, True, [], []
    for stage in exchange.stages:
        count, known = _received(stage.releases, party.received_by, party.headline)
        total, exact = total + count, exact and known
        values.append(total)
        figures.append(people_figure(total, not exact))
    return _Line(key, party.name, party.name_uk, party.headline, values, figures)


def tally_chart(
    exchange: ExchangeDetail,
    parties: Sequence[tuple[str, PartyTallyPublic]],
    frame: Frame = WIDGET,
) -> Chart | None:
    """Cumulative returns to each of `parties` ((series key, its tally)) over the stages, in
    each party's headline measure (bodies for a deal of remains), with the target lines; None
    when there is no stage to draw."""
    if not exchange.stages or not parties:
        return None
    lines = [_line(exchange, key, party) for key, party in parties]
    targets = sorted({target for _, party in parties if (target := party.figure.target)})
    stages = [(stage.id, stage.date) for stage in exchange.stages]
    return _drawn(stages, lines, targets, frame)


def cumulative_chart(exchange: ExchangeDetail) -> Chart | None:
    """The exchange page's chart: cumulative returns to the first API's two sides (the first
    two parties), as `a` and `b`, in the page's frame."""
    tallies = {party.received_by: party for party in exchange.tally}
    parties = [
        (side.key, tallies[party.slug])
        for side, party in zip(exchange.sides, exchange.parties, strict=False)
        if party.slug in tallies
    ]
    return tally_chart(exchange, parties, PAGE)
