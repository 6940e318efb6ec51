"""Running totals by the tally's rules, which source gave which figure, and the citation text."""

import datetime as dt
from gettext import NullTranslations

import pytest
from sqlmodel import Session

from app import citing, crud, i18n, tally
from app.models import ExchangeDetail, SourcePublic
from app.settings import PROJECT_ROOT
from tests.factories import SOURCE, add_stage, make_exchange, release, stage_data

ENGLISH = citing.Words(NullTranslations(), i18n.Formats("en"))
UKRAINIAN = citing.Words(i18n.load_translations(PROJECT_ROOT / "locale")["uk"], i18n.Formats("uk"))
CITED = SourcePublic(
    url="https://example.org/hq",
    publisher="Example Wire",
    announcer="Coordination HQ",
    published_at=None,
    claim="",
)


def istanbul(session: Session) -> ExchangeDetail:
    """Three days: split figures, people alone with 15 outside the deal, and an undisclosed day."""
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    day_2 = [
        release("ukraine", people=307),
        release("russia", people=307),
        release("russia", people=15, outside_deal=True),
    ]
    add_stage(session, exchange, stage_data(sides=None, releases=day_2, date=dt.date(2025, 5, 24)))
    day_3 = [release("ukraine", people=303), release("russia")]
    add_stage(session, exchange, stage_data(sides=None, releases=day_3, date=dt.date(2025, 5, 25)))
    found = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert found is not None
    return found


def read(figure: tally.HeadlineFigure) -> tuple[int | None, str]:
    return figure.count, figure.qualifier


def test_running_totals_count_each_party_after_every_stage(session: Session) -> None:
    exchange = istanbul(session)
    totals = citing.running_totals(exchange)
    assert [
        {party: read(figure) for party, figure in after.items()} for after in totals.values()
    ] == [
        {"ukraine": (390, "exact"), "russia": (390, "exact")},
        {"ukraine": (697, "exact"), "russia": (697, "exact")},  # the 15 outside never count
        {"ukraine": (1000, "exact"), "russia": (697, "at_least")},
    ]


def test_running_totals_agree_with_the_tally_as_of_each_stage(session: Session) -> None:
    exchange = istanbul(session)
    totals = citing.running_totals(exchange)
    for stage in exchange.stages:
        then = crud.get_exchange_as_of(session, slug=exchange.slug, as_of=stage.date)
        assert then is not None
        assert {p.received_by: read(p.figure) for p in then.tally} == {
            party: read(figure) for party, figure in totals[stage.id].items()
        }
    latest = totals[exchange.stages[-1].id]
    assert {p.received_by: p.figure for p in exchange.tally} == latest


def test_a_remains_deal_counts_bodies(session: Session) -> None:
    def bodies(count: int, day: int) -> object:
        return stage_data(
            sides=None,
            releases=[release("ukraine", kind="remains", remains=count, qualifier="about")],
            date=dt.date(2025, 6, day),
        )

    exchange = make_exchange(session, bodies(900, 1))
    add_stage(session, exchange, bodies(1212, 2))  # type: ignore[arg-type]
    found = crud.get_exchange(session, slug=exchange.slug)
    assert found is not None
    totals = list(citing.running_totals(found).values())
    assert [(t["ukraine"].measure, *read(t["ukraine"])) for t in totals] == [
        ("remains", 900, "about"),
        ("remains", 2112, "about"),
    ]
    words = citing.total_figures(ENGLISH, totals[-1], {})
    assert words == "about 2,112 bodies returned to ukraine; 0 bodies returned to russia"


def test_footnotes_lead_to_the_sources_that_gave_the_figure(session: Session) -> None:
    gave_ukraine = SOURCE | {
        "url": "https://example.org/hq",
        "figures": [{"received_by": "ukraine", "military": 270, "civilian": 120}],
    }
    make_exchange(session, stage_data(a=(270, 120), sources=[SOURCE, gave_ukraine]))
    found = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert found is not None
    # Ukraine's row to the source that gave it; Russia's to the one on the stage as a whole.
    assert citing.footnotes(found.stages[0]) == [[(2, 2)], [(1, 1)]]
    assert citing.cited_source(found.stages[0]).url == "https://example.org/hq"  # type: ignore[union-attr]


def test_many_sources_on_the_stage_as_a_whole_make_one_marker(session: Session) -> None:
    wires = [SOURCE | {"url": f"https://example.org/{n}"} for n in range(1, 5)]
    gave_russia = SOURCE | {
        "url": "https://example.org/mod",
        "figures": [{"received_by": "russia", "military": 270, "civilian": 120}],
    }
    make_exchange(session, stage_data(a=(270, 120), sources=[*wires, gave_russia]))
    found = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert found is not None
    assert citing.footnotes(found.stages[0]) == [[(1, 4)], [(5, 5)]]


def test_a_stage_citation_names_its_figure_source_permalink_and_access_day() -> None:
    text = citing.citation(
        ENGLISH,
        title="Istanbul 1,000 for 1,000",
        figures="307 returned to Ukraine on 23 May 2025",
        source=CITED,
        permalink="https://swaptally.example/exchanges/istanbul-1000-for-1000#stage-12",
        accessed=dt.date(2026, 12, 2),
    )
    assert text == (
        "Swap Tally, “Istanbul 1,000 for 1,000”, 307 returned to Ukraine on 23 May 2025"
        " (source: Coordination HQ, https://example.org/hq),"
        " https://swaptally.example/exchanges/istanbul-1000-for-1000#stage-12,"
        " accessed 2 December 2026."
    )


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ENGLISH,
            "Swap Tally, “Swap”, https://x.example/exchanges/swap, accessed 2 December 2026.",
        ),
        (
            UKRAINIAN,
            "Swap Tally, «Swap», https://x.example/exchanges/swap,"
            " дата звернення: 2 грудня 2026\u202fр.",
        ),
    ],
)
def test_a_page_without_stages_is_cited_without_figures(words: citing.Words, expected: str) -> None:
    text = citing.citation(
        words,
        title="Swap",
        figures="",
        source=None,
        permalink="https://x.example/exchanges/swap",
        accessed=dt.date(2026, 12, 2),
    )
    assert text == expected


def test_a_ukrainian_citation_is_in_ukrainian(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)), title_uk="Стамбул 1000 на 1000")
    found = crud.get_exchange(session, slug="istanbul-1000-for-1000")
    assert found is not None
    page, stages = citing.cite_exchange(
        UKRAINIAN,
        found,
        title="Стамбул 1000 на 1000",
        base_url="https://x.example",
        accessed=dt.date(2026, 12, 2),
    )
    stage = found.stages[0].id
    assert stages[stage].text == (
        "Swap Tally, «Стамбул 1000 на 1000», Ukraine: повернуто 390; Russia: повернуто 390"
        " (23 травня 2025\u202fр.) (джерело: Example Wire, https://example.org/report),"
        f" https://x.example/exchanges/istanbul-1000-for-1000#stage-{stage},"
        " дата звернення: 2 грудня 2026\u202fр."
    )
    assert page == (
        "Swap Tally, «Стамбул 1000 на 1000», Ukraine: повернуто 390; Russia: повернуто 390"
        " станом на 23 травня 2025\u202fр., https://x.example/exchanges/istanbul-1000-for-1000,"
        " дата звернення: 2 грудня 2026\u202fр."
    )
