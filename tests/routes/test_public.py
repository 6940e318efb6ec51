"""Public pages: dashboard, exchange page, language choice; each asserts the figures it shows."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import seed
from app.models import Revision, StageCreate
from tests.factories import (
    SOURCE,
    add_stage,
    correct_stage,
    make_exchange,
    name_parties_in_ukrainian,
    release,
    stage_data,
)
from tests.html import parse, text, texts
from tests.needs import untranslated


def test_dashboard_shows_each_side_against_its_target(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(270, None)))
    response = client.get("/")
    assert response.status_code == 200
    assert (
        response.headers["vary"]
        == "HX-Request, HX-History-Restore-Request, Accept-Language, Cookie"
    )
    page = parse(response.text)
    row = page.select_one("tr#exchange-istanbul-1000-for-1000")
    assert row is not None
    assert texts(row, ".returned") == ["Ukraine 390 of 1,000", "Russia at least 270 of 1,000"]
    assert texts(row, "td") == [
        "16 May 2025",
        "Istanbul 1,000 for 1,000",
        "Ukraine, Russia",
        "in progress",
        "Ukraine 390 of 1,000 Russia at least 270 of 1,000",
        "1",
    ]


@pytest.mark.parametrize(
    ("planned", "meta"),
    [
        (3, "in progress · day 2 of 3 · agreed 16 May 2025"),
        (2, "in progress · day 2 of 2 · agreed 16 May 2025"),
        (1, "in progress · day 2 · agreed 16 May 2025"),  # never "day 2 of 1"
        (None, "in progress · 2 stages · agreed 16 May 2025"),
    ],
)
def test_day_n_of_m_never_counts_past_the_plan(
    client: TestClient, session: Session, planned: int | None, meta: str
) -> None:
    make_exchange(
        session,
        stage_data(),
        stage_data(date=dt.date(2025, 5, 24)),
        planned_stages=planned,
    )
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    assert text(page.select_one(".meta")) == meta


@pytest.mark.postgresql
def test_dashboard_puts_exchanges_in_progress_first(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(date=dt.date(2025, 6, 1)), slug="done", status="completed")
    make_exchange(session, stage_data(date=dt.date(2024, 1, 1)), slug="ongoing")
    page = parse(client.get("/").text)
    assert [row["id"] for row in page.select(".exchange-table tbody tr")] == [
        "exchange-ongoing",
        "exchange-done",
    ]
    assert texts(page, ".totals-list li") == [
        "780 returned to Russia in the 2 exchanges recorded here",
        "780 returned to Ukraine in the 2 exchanges recorded here",
    ]
    assert [li["id"] for li in page.select(".stage-list .stage-summary")] == ["stage-1", "stage-2"]


def test_over_target_shows_over_100_percent_with_a_full_bar(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(1012, 0)), stage_data(a=(0, 0), date=dt.date(2025, 5, 24)))
    assert texts(parse(client.get("/").text), ".returned")[0] == "Ukraine 1,012 of 1,000"
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    assert texts(page, ".side-tally .figure")[0] == "1,012 of 1,000 returned to Ukraine (101.2 %)"
    assert page.select(".side-tally .bar rect")[0]["width"] == "100.0"


def test_side_with_nothing_disclosed_says_undisclosed(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(100, 0), b=(None, None)), target=None)
    assert texts(parse(client.get("/").text), ".returned") == [
        "Ukraine 100",
        "Russia undisclosed",
    ]


def test_a_floor_of_zero_reads_undisclosed_never_at_least_0(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(0, None)))
    dashboard = parse(client.get("/").text)
    assert texts(dashboard, ".returned") == [
        "Ukraine 390 of 1,000",
        "Russia undisclosed of 1,000",
    ]
    assert texts(dashboard, ".totals-list li") == [
        "undisclosed returned to Russia in the 1 exchange recorded here",
        "390 returned to Ukraine in the 1 exchange recorded here",
    ]
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    assert page.select_one('meta[name="description"]')["content"] == (  # type: ignore[index]
        "Ukraine: 390 / 1,000; Russia: undisclosed"
    )
    api = client.get("/api/v1/exchanges/istanbul-1000-for-1000").json()
    russia = api["sides"][1]
    assert (russia["returned"]["people"], russia["undisclosed"]) == (0, True)


def test_exchange_page_tells_the_whole_story(client: TestClient, session: Session) -> None:
    exchange = make_exchange(
        session,
        stage_data(a=(270, 120), sources=[SOURCE | {"published_at": "2025-05-23"}]),
        mediators=["Türkiye"],
        venue="Istanbul",
    )
    add_stage(
        session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24), status="reported")
    )
    response = client.get("/exchanges/istanbul-1000-for-1000")
    assert response.status_code == 200
    page = parse(response.text)
    assert text(page.select_one("h1")) == "Istanbul 1,000 for 1,000"
    assert texts(page, ".tally .figure") == [
        "697 of 1,000 returned to Ukraine (69.7 %)",
        "697 of 1,000 returned to Russia (69.7 %)",
    ]
    assert texts(page, ".tally .breakdown") == ["military 577 · civilians 120"] * 2
    assert texts(page, ".agreement dd")[:3] == ["16 May 2025", "Istanbul", "Türkiye"]
    assert texts(page, ".stage h3") == ["23 May 2025 reported", "24 May 2025 reported"]
    first_stage = page.select_one(".stage")
    assert first_stage is not None
    assert texts(first_stage, "tbody tr") == [
        "Ukraine [1] 270 120 390 —",
        "Russia [1] 270 120 390 —",
    ]
    assert texts(first_stage, ".sources li") == [
        "Example Wire (23 May 2025): Both sides confirmed."
    ]
    assert page.select_one('meta[property="og:title"]')["content"] == "Istanbul 1,000 for 1,000"  # type: ignore[index]
    assert page.select_one('meta[property="og:description"]')["content"] == (  # type: ignore[index]
        "Ukraine: 697 / 1,000; Russia: 697 / 1,000"
    )
    assert [a["href"] for a in page.select(".downloads a")] == [
        "/api/v1/exchanges/istanbul-1000-for-1000/stages.csv",
        "/api/v1/exchanges/istanbul-1000-for-1000",
        "/exchanges/istanbul-1000-for-1000/feed",
    ]


def test_exchange_chart_is_svg_with_a_text_alternative(
    client: TestClient, session: Session
) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    svg = page.select_one("figure.chart svg")
    assert svg is not None
    assert (svg["role"], svg["aria-labelledby"], svg["aria-describedby"]) == (
        "group",
        "chart-title",
        "chart-desc",
    )
    assert text(page.select_one("figure.chart #chart-title")) == (
        "People returned, cumulative, by stage"
    )
    assert text(svg.select_one("desc")) == (
        "Ukraine: 697 after 2 stages; Russia: 697 after 2 stages; target 1,000"
    )
    assert len(svg.select("polyline.series")) == 2
    assert len(svg.select("line.target")) == 1
    assert texts(svg, ".target-label") == ["target 1,000"]
    assert texts(svg, ".line-label") == ["Ukraine 697", "Russia 697"]
    assert texts(svg, ".date") == ["23 May 2025", "24 May 2025"]
    assert [a["aria-label"] for a in svg.select("a.point")] == [
        "23 May 2025: Ukraine 390, Russia 390",
        "24 May 2025: Ukraine 697, Russia 697",
    ]
    assert text(page.select_one("figure.chart details summary")) == "Show as table"
    assert texts(page, "figure.chart details table tbody tr") == [
        "23 May 2025 390 390",
        "24 May 2025 697 697",
    ]


def test_stage_summaries_and_chart_say_at_least_when_a_part_is_unknown(
    client: TestClient, session: Session
) -> None:
    exchange = make_exchange(session, stage_data(a=(270, None), b=(0, None)))
    add_stage(session, exchange, stage_data(a=(307, 0), b=(307, 0), date=dt.date(2025, 5, 24)))
    rows = texts(parse(client.get("/").text), ".stage-list .stage-counts")
    assert rows == ["Ukraine 307 · Russia 307", "Ukraine at least 270 · Russia undisclosed"]
    rows = texts(parse(client.get("/timeline").text), ".stage-list .stage-counts")
    assert rows == ["Ukraine 307 · Russia 307", "Ukraine at least 270 · Russia undisclosed"]
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    assert text(page.select_one("figure.chart desc")) == (
        "Ukraine: at least 577 after 2 stages; Russia: at least 307 after 2 stages; target 1,000"
    )
    assert texts(page, "figure.chart table tbody tr") == [
        "23 May 2025 at least 270 undisclosed",
        "24 May 2025 at least 577 at least 307",
    ]


@pytest.mark.parametrize(
    ("lang", "description"),
    [
        ("en", "Ukraine: 390 after 1 stage; Russia: 390 after 1 stage; target 1,000"),
        ("uk", "Ukraine: 390 після 1 етапу; Russia: 390 після 1 етапу; мета 1 000"),
    ],
)
def test_chart_description_counts_stages_in_each_language(
    client: TestClient, session: Session, lang: str, description: str
) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    page = parse(client.get(f"/exchanges/istanbul-1000-for-1000?lang={lang}").text)
    assert text(page.select_one("figure.chart desc")) == description


def test_correction_note_is_shown_on_the_stage(client: TestClient, session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    session.add(
        Revision(
            entity="stage",
            entity_id=1,
            action="update",
            actor="editor@example.org",
            at=dt.datetime(2025, 5, 24, 9, 30, tzinfo=dt.UTC),
            reason="Ministry revised civilians from 110 to 120",
            is_correction=True,
        )
    )
    session.commit()
    page = parse(client.get(f"/exchanges/{exchange.slug}").text)
    assert texts(page, ".correction") == [
        "Corrected on 24 May 2025: Ministry revised civilians from 110 to 120"
    ]


# The correction's wording, new in this file's tests: their Ukrainian cases run once translated.
NEW_WORDING = untranslated(
    "Corrected on %(date)s:",
    "%(side)s received %(after)s (previously undisclosed).",
    "Outside the exchange, %(side)s also received %(after)s.",
)
CORRECTED_AT = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
WOUNDED = "15 wounded were returned too"


def corrected_notes(client: TestClient, lang: str = "en") -> list[str]:
    response = client.get("/exchanges/istanbul-1000-for-1000", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return texts(parse(response.text), "#stage-1 .correction[role=note]")


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("en", f"Corrected on 2 December 2026: Russia received 261, not 246. {WOUNDED}"),
        pytest.param(
            "uk",
            f"Виправлено 2 грудня 2026 р.: Росія: отримано 261, а не 246. {WOUNDED}",
            marks=NEW_WORDING,
        ),
    ],
)
def test_a_correction_note_says_when_what_changed_and_why(
    client: TestClient, session: Session, lang: str, note: str
) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(200, 46)))
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    correct_stage(
        session, 1, stage_data(a=(270, 120), b=(215, 46)), reason=WOUNDED, at=CORRECTED_AT
    )
    assert corrected_notes(client, lang) == [note]


def test_a_figure_first_disclosed_says_it_was_undisclosed(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(None, None)))
    correct_stage(session, 1, stage_data(a=(270, 120), b=(215, 46)), reason="MoD", at=CORRECTED_AT)
    correct_stage(
        session, 1, stage_data(a=(270, 120), b=(None, None)), reason="MoD withdrew it",
        at=CORRECTED_AT + dt.timedelta(days=1),
    )  # fmt: skip
    # Oldest first, one note each, as the stages read.
    assert corrected_notes(client) == [
        "Corrected on 2 December 2026: Russia received 261 (previously undisclosed). MoD",
        "Corrected on 3 December 2026: Russia received an undisclosed number, not 261."
        " MoD withdrew it",
    ]


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("en", "Corrected on 2 December 2026: Ukraine received 909 bodies, not 900. ICRC count"),
        pytest.param(
            "uk",
            "Виправлено 2 грудня 2026 р.: Ukraine: отримано 909 тіл, а не 900. ICRC count",
            marks=NEW_WORDING,
        ),
    ],
)
def test_a_correction_of_remains_counts_bodies(
    client: TestClient, session: Session, lang: str, note: str
) -> None:
    def bodies(count: int) -> StageCreate:
        return stage_data(sides=None, releases=[release("ukraine", kind="remains", remains=count)])

    make_exchange(session, bodies(900))
    correct_stage(session, 1, bodies(909), reason="ICRC count", at=CORRECTED_AT)
    assert corrected_notes(client, lang) == [note]


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        (
            "en",
            "Corrected on 2 December 2026: Russia received 246, not 261."
            f" Outside the exchange, Russia also received 15. {WOUNDED}",
        ),
        pytest.param(
            "uk",
            "Виправлено 2 грудня 2026 р.: Russia: отримано 246, а не 261."
            f" Поза обміном Russia: також отримано 15. {WOUNDED}",
            marks=NEW_WORDING,
        ),
    ],
)
def test_a_correction_outside_the_deal_says_so(
    client: TestClient, session: Session, lang: str, note: str
) -> None:
    in_deal = [release("ukraine", people=390), release("russia", people=261)]
    make_exchange(session, stage_data(sides=None, releases=in_deal))
    outside = release("russia", people=15, outside_deal=True)
    corrected = stage_data(
        sides=None,
        releases=[release("ukraine", people=390), release("russia", people=246), outside],
    )
    correct_stage(session, 1, corrected, reason=WOUNDED, at=CORRECTED_AT)
    assert corrected_notes(client, lang) == [note]


def test_unknown_exchange_page_is_404(client: TestClient) -> None:
    assert client.get("/exchanges/nope").status_code == 404


def test_user_text_is_escaped(client: TestClient, session: Session) -> None:
    make_exchange(
        session, stage_data(notes="<img src=x onerror=alert(1)>"), title="<script>x</script>"
    )
    for url in ("/", "/exchanges/istanbul-1000-for-1000", "/timeline"):
        body = client.get(url).text
        assert "<script>x</script>" not in body
        assert "<img src=x" not in body


def test_ukrainian_pages_use_ukrainian_numbers_and_dates(
    client: TestClient, session: Session
) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2024, 5, 25), b=(307, None)))
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    response = client.get("/exchanges/istanbul-1000-for-1000?lang=uk")
    page = parse(response.text)
    assert page.html["lang"] == "uk"  # type: ignore[index]
    assert response.headers["content-language"] == "uk"
    assert texts(page, ".tally .figure") == [
        "Україна: повернуто 697 з 1 000 (69,7 %)",
        "Росія: повернуто щонайменше 697 з 1 000 (69,7 %)",
    ]
    assert texts(page, ".stage h3") == [
        "25 травня 2024 р. повідомлено",
        "23 травня 2025 р. повідомлено",
    ]


def test_language_is_remembered_by_a_cookie(client: TestClient) -> None:
    first = client.get("/?lang=uk")
    assert first.cookies.get("lang") == "uk"
    assert parse(client.get("/").text).html["lang"] == "uk"  # type: ignore[index]
    client.cookies.clear()
    page = parse(client.get("/", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}).text)
    assert page.html["lang"] == "uk"  # type: ignore[index]
    assert parse(client.get("/").text).html["lang"] == "en"  # type: ignore[index]


def test_every_page_links_to_the_other_language(client: TestClient) -> None:
    page = parse(client.get("/timeline?status=confirmed").text)
    assert [a["href"] for a in page.select(".languages a")] == [
        "/timeline?status=confirmed&lang=uk"
    ]


def test_htmx_is_served_from_the_npm_package(client: TestClient) -> None:
    page = parse(client.get("/").text)
    script = page.select_one('script[src$="htmx.min.js"]')
    assert script is not None
    response = client.get(str(script["src"]))
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


@pytest.mark.postgresql
def test_every_seeded_exchange_page_renders_with_its_figures(
    client: TestClient, session: Session
) -> None:
    assert seed.load(session).added == 72
    session.commit()
    for exchange in seed.bundled_exchanges():
        response = client.get(f"/exchanges/{exchange.slug}")
        assert response.status_code == 200, exchange.slug
    page = parse(client.get("/exchanges/istanbul-1000-for-1000").text)
    assert texts(page, ".tally .figure") == [
        "1,000 of 1,000 returned to Ukraine (100.0 %)",
        "1,000 of 1,000 returned to Russia (100.0 %)",
    ]
    assert texts(page, "figure.chart table tbody tr") == [
        "23 May 2025 390 390",
        "24 May 2025 697 697",
        "25 May 2025 1,000 1,000",
    ]
    medvedchuk = parse(client.get("/exchanges/2022-09-21-azov-medvedchuk").text)
    assert texts(medvedchuk, ".tally .figure") == [
        "215 returned to Ukraine",
        "56 returned to Russia",  # 55 soldiers and Medvedchuk (the reference, v2)
    ]
    bodies = parse(client.get("/exchanges/2025-istanbul-2-bodies").text)
    assert (
        texts(bodies, ".tally .figure")[0] == "6,057 bodies of 6,000 returned to Ukraine (101.0 %)"
    )
    assert texts(bodies, ".tally .range")[0] == (
        "Disputed: the announcers' figures range from 6,057 to 6,060"
    )
    easter = parse(client.get("/exchanges/2025-04-19-easter-277").text)
    assert texts(easter, ".tally .outside") == [
        "plus 31 returned outside the exchange",
        "plus 15 returned outside the exchange",
    ]
    yemen = parse(client.get("/exchanges/2023-04-yemen-887-deal").text)
    assert len(yemen.select(".tally .side-tally")) == 3
    dashboard = parse(client.get("/").text)
    ukraine = dashboard.select_one(
        '#conflict-russia-ukraine-war + .totals-list li[data-party="ukraine"]'
    )
    assert ukraine is not None
    assert " ".join(ukraine.get_text().split()) == (
        "at least 7,042 returned to Ukraine in the 69 exchanges recorded here, plus 53 outside"
        " the exchanges; 13,283 bodies repatriated; Ukraine's Coordination Headquarters reports"
        " 8,050 (11 March 2026) source"
    )


def test_readers_get_an_error_page_in_their_language(client: TestClient) -> None:
    response = client.get("/exchanges/no-such-swap?lang=uk")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert text(parse(response.text).select_one("h1")) == "Не знайдено"
    assert client.get("/no/such/page").headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/exchanges/no-such-swap")
    assert api.json() == {"detail": "No exchange with slug 'no-such-swap'"}
    assert client.get("/exchanges/no-such-swap/feed.atom").json()["detail"].startswith("No exch")


def test_english_standing_in_on_a_ukrainian_page_is_marked_so(
    client: TestClient, session: Session
) -> None:
    """A screen reader reads "Istanbul 1,000 for 1,000" in an English voice on a Ukrainian page,
    and "Україна" in the page's own once the party is named in Ukrainian."""
    make_exchange(session, stage_data())
    name_parties_in_ukrainian(session, ukraine="Україна")
    page = parse(client.get("/exchanges/istanbul-1000-for-1000?lang=uk").text)
    assert page.select_one("html")["lang"] == "uk"  # type: ignore[index]
    assert texts(page, 'h1 [lang="en"]') == ["Istanbul 1,000 for 1,000"]
    figures = page.select(".side-tally .figure")
    assert [texts(figure, '[lang="en"]') for figure in figures] == [[], ["Russia"]]
    assert "Україна" in text(figures[0])
    home = parse(client.get("/?lang=uk").text)
    assert "Istanbul 1,000 for 1,000" in texts(home, '#exchange-istanbul-1000-for-1000 [lang="en"]')
    english = parse(client.get("/exchanges/istanbul-1000-for-1000?lang=en").text)
    assert english.select('main [lang="en"]') == []
