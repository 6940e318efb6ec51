"""The chart's geometry (app/chart.py): the page's frame (x in percent, y in px), labels moved
apart so none overlap, the dates the axis shows, and the embed's frame left as it was."""

import datetime as dt
from typing import Any

import pytest
from markupsafe import Markup
from sqlmodel import Session

from app import crud
from app.chart import Chart, cumulative_chart, spread, tally_chart, wrapped
from app.models import ExchangeDetail
from app.tally import PeopleFigure
from tests.embedded_exchanges import BODIES, bodies_for_bodies
from tests.factories import add_stage, make_exchange, stage_data

ISTANBUL = "istanbul-1000-for-1000"


def english(thing: Any, field: str) -> str:
    return str(getattr(thing, field))


def worded(figure: PeopleFigure) -> Markup:
    return Markup(f"at least {figure.count}" if figure.at_least else f"{figure.count}")


def detail(session: Session, slug: str) -> ExchangeDetail:
    exchange = crud.get_exchange(session, slug=slug)
    assert exchange is not None
    return exchange


def chart_of(session: Session, slug: str = ISTANBUL) -> Chart:
    chart = cumulative_chart(detail(session, slug))
    assert chart is not None
    return chart


def test_spread_moves_boxes_apart_as_little_as_it_takes() -> None:
    assert spread([10, 80], [20, 20], low=0, high=200) == [10, 80]  # already apart
    assert spread([50, 50], [30, 20], low=0, high=200) == [50, 80]  # equal: the second below
    assert spread([60, 50], [20, 20], low=0, high=200) == [70, 50]  # in the order given
    assert spread([190, 190], [20, 20], low=0, high=200) == [160, 180]  # kept above the bottom
    assert spread([-10], [20], low=0, high=200) == [0]  # and below the top


def test_wrapped_breaks_between_words_only() -> None:
    assert wrapped("Government of Yemen (internationally recognised)", 13) == [
        "Government of",
        "Yemen",
        "(internationally",
        "recognised)",
    ]
    assert wrapped("", 13) == [""]


def test_page_chart_is_drawn_in_percent_across_and_px_down(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    add_stage(session, exchange, stage_data(a=(303, 0), date=dt.date(2025, 5, 25)))
    chart = chart_of(session)
    assert (chart.width, chart.height, chart.left, chart.right) == (100, 200, 0, 100)
    assert [s.polyline for s in chart.series] == ["0.0,122.0 50.0,60.6 100.0,0.0"] * 2
    assert [(t.value, t.y, t.label_y) for t in chart.targets] == [(1000, 0, -4)]
    assert [(t.value, round(t.y, 6)) for t in chart.ticks] == [
        (0, 200),
        (200, 160),
        (400, 120),
        (600, 80),
        (800, 40),
        (1000, 0),
    ]
    assert [s.date.day for s in chart.axis_stages] == [23, 24, 25]
    assert [(s.x, s.figures) for s in chart.stages][1] == (
        50,
        [PeopleFigure(697), PeopleFigure(697)],
    )
    assert chart.measure == "people"


def test_equal_lines_get_labels_one_under_the_other(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    chart = chart_of(session)
    ukraine, russia = chart.labels(english, worded)
    assert (ukraine.name, ukraine.figure, russia.name, russia.figure) == (
        ["Ukraine"],
        ["390"],
        ["Russia"],
        ["390"],
    )
    # both lines end at 122 px: two labels of two 16 px lines, the first centred on the end
    assert (ukraine.y, russia.y) == (118, 150)
    assert chart.axis_stages == chart.stages  # one stage: its date once
    tip = chart.tip(chart.stages[0], english)
    assert (tip.names, tip.y, tip.start) == ([["Ukraine"], ["Russia"]], 42, True)


def test_a_tip_with_no_room_above_its_points_goes_below(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(500, 110), date=dt.date(2025, 5, 24)))
    chart = chart_of(session)
    last = chart.stages[-1]
    assert last.ys == [0, 0]
    assert (chart.tip(last, english).y, chart.tip(last, english).start) == (24, False)


def test_a_label_wraps_its_figure_and_the_labels_stay_in_the_plot(session: Session) -> None:
    make_exchange(session, stage_data(a=(None, 0), b=(0, 0)))
    chart = chart_of(session)
    assert [s.figures[-1] for s in chart.series] == [PeopleFigure(None), PeopleFigure(0)]
    ukraine, russia = chart.labels(english, lambda _: Markup("at least 1,000 people"))
    assert ukraine.figure == ["at least", "1,000 people"]
    # both at 0 (the bottom), three lines each: pushed up until the lower one ends at 200 px
    assert (ukraine.y, russia.y) == (116, 164)


def test_a_deal_of_remains_charts_bodies(session: Session) -> None:
    bodies_for_bodies(session)
    chart = chart_of(session, BODIES)
    assert chart.measure == "remains"
    assert [s.values for s in chart.series] == [[1212, 6057], [1, 21]]
    assert [t.value for t in chart.targets] == [6000]


@pytest.mark.parametrize("stages", [2, 3, 4, 5])
def test_the_axis_dates_are_the_first_the_middle_and_the_last(
    session: Session, stages: int
) -> None:
    exchange = make_exchange(session, stage_data(a=(1, 1)))
    for day in range(1, stages):
        add_stage(session, exchange, stage_data(a=(1, 1), date=dt.date(2025, 5, 23 + day)))
    chart = chart_of(session)
    middle = {2: [], 3: [24], 4: [24], 5: [25]}[stages]
    assert [s.date.day for s in chart.axis_stages] == [23, *middle, 22 + stages]


def test_the_widget_keeps_its_own_frame(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    found = detail(session, ISTANBUL)
    chart = tally_chart(found, [("a", found.tally[0])])
    assert chart is not None
    assert (chart.width, chart.height, chart.left, chart.right) == (640, 260, 56, 624)
    # 16 px down to the plot, 204 px of plot: 390 at 16 + 204 * (1 - 0.390)
    assert chart.series[0].polyline == "56.0,140.4 624.0,77.8"
    assert chart.x_labels == [(56, dt.date(2025, 5, 23)), (624, dt.date(2025, 5, 24))]
