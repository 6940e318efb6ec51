"""The widget /embed/{slug}: every option, its size, no outside requests, its CSP, pinned tallies,
corrections, accessibility, and its host script /embed.js."""

import base64
import datetime as dt
import hashlib
import re

import pytest
import rjsmin  # type: ignore[import-untyped]
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import seed, writes
from app.models import Stage, TargetIn, TermsIn
from tests.embedded_exchanges import (
    BODIES,
    DISPUTED,
    YEMEN,
    bodies_for_bodies,
    disputed,
    exchange,
    release,
    stage,
    yemen,
)
from tests.factories import add_stage, make_exchange, stage_data
from tests.html import inline, parse, text, texts

SLUG = "istanbul-1000-for-1000"
WIDGET = f"/embed/{SLUG}"
MAX_BYTES = 15 * 1024


def widget(client: TestClient, query: str = "") -> tuple[BeautifulSoup, bytes]:
    response = client.get(WIDGET + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return parse(response.text), response.content


def root(page: BeautifulSoup) -> Tag:
    found = page.select_one("#st-widget")
    assert found is not None
    return found


@pytest.fixture
def three_days(session: Session) -> None:
    """The Istanbul swap after its first two days (in progress), 697 each."""
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))


@pytest.mark.usefixtures("three_days")
def test_default_widget_shows_the_tally_per_side(client: TestClient) -> None:
    page, _ = widget(client)
    assert page.html is not None
    assert (page.html["lang"], page.html["class"]) == ("en", ["st-auto"])
    assert texts(page, ".st-figure") == [
        "697 of 1,000 returned to Ukraine 69.7 %",
        "697 of 1,000 returned to Russia 69.7 %",
    ]
    assert [rect["width"] for rect in page.select(".st-bar .st-fill")] == ["69.7", "69.7"]
    assert texts(page, ".st-breakdown") == ["military 577 · civilians 120"] * 2
    meta = text(page.select_one(".st-meta"))
    assert meta.startswith("in progress · day 2 of 3 · updated ")
    assert meta.endswith(" UTC")
    assert page.select(".st-corrected, .st-now, .st-chart") == []
    credit = page.select_one(".st-credit a")
    assert credit is not None
    assert (credit["href"], credit["target"]) == (f"/exchanges/{SLUG}", "_blank")
    assert root(page)["data-slug"] == SLUG


@pytest.mark.usefixtures("three_days")
@pytest.mark.parametrize(
    ("query", "html_class", "scheme"),
    [
        ("theme=light", ["st-light"], "light"),
        ("theme=dark", ["st-dark"], "dark"),
        ("theme=auto", ["st-auto"], "light dark"),
        ("theme=dark&transparent=1", ["st-dark", "st-transparent"], "dark"),
        ("transparent=true", ["st-auto", "st-transparent"], "light dark"),
        ("transparent=0", ["st-auto"], "light dark"),
    ],
)
def test_themes(client: TestClient, query: str, html_class: list[str], scheme: str) -> None:
    page, _ = widget(client, query)
    assert page.html is not None
    assert page.html["class"] == html_class
    meta = page.select_one('meta[name="color-scheme"]')
    assert meta is not None
    assert meta["content"] == scheme


@pytest.mark.usefixtures("three_days")
@pytest.mark.parametrize(
    ("query", "sides"),
    [("side=a", ["a"]), ("side=b", ["b"]), ("side=both", ["a", "b"])],
)
def test_sides(client: TestClient, query: str, sides: list[str]) -> None:
    page, _ = widget(client, query)
    assert [side["data-side"] for side in page.select(".st-side")] == sides
    summary = text(page.select_one("#st-summary"))
    assert ("returned to Ukraine" in summary, "returned to Russia" in summary) == (
        "a" in sides,
        "b" in sides,
    )


@pytest.mark.usefixtures("three_days")
def test_views(client: TestClient) -> None:
    compact, _ = widget(client, "view=compact")
    assert root(compact)["class"] == ["st-view-compact"]
    assert compact.select(".st-bar, .st-breakdown, .st-chart") == []
    assert texts(compact, ".st-figure")[0] == "Ukraine 697 of 1,000 69.7 %"

    chart, _ = widget(client, "view=chart&side=b")
    assert chart.select(".st-bar") == []
    [line] = chart.select(".st-chart polyline")
    assert line["class"] == ["series", "series-b"]
    assert len(chart.select(".st-chart circle")) == 2  # one dot per stage
    assert texts(chart, ".st-chart text")[-2:] == ["23 May 2025", "24 May 2025"]
    assert len(chart.select(".st-chart .target")) == 1


@pytest.mark.usefixtures("three_days")
def test_ukrainian(client: TestClient) -> None:
    page, _ = widget(client, "lang=uk")
    assert page.html is not None
    assert page.html["lang"] == "uk"
    assert texts(page, ".st-figure strong") == ["697", "697"]
    assert inline(page.select_one(".st-figure")) == "Ukraine: повернуто 697 з 1 000 69,7 %"
    assert text(page.select_one(".st-meta")).startswith("триває · день 2 з 3 · оновлено ")
    assert text(page.select_one(".st-credit")) == "Подробиці та джерела на Swap Tally"


def test_undisclosed_figures_say_so(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, None), b=(None, None)), target=None)
    page, _ = widget(client)
    assert texts(page, ".st-figure") == [
        "at least 270 returned to Ukraine",
        "undisclosed returned to Russia",
    ]
    assert page.select(".st-bar") == []  # no target, no percent, no bar


@pytest.mark.postgresql
def test_as_of_keeps_the_historic_figures_of_the_seed(client: TestClient, session: Session) -> None:
    """An article written on 23 May 2025 about the Istanbul 1,000-for-1,000 swap keeps 390."""
    seed.load(session)
    session.commit()
    page, _ = widget(client, "as_of=2025-05-23")
    assert texts(page, ".st-figure strong") == ["390", "390"]
    # The v2 seed's terms leave the number of days open ("to continue on 24-25 May").
    assert text(page.select_one(".st-progress")) == "1 stage"
    assert text(page.select_one(".st-meta")) == "1 stage · as of 23 May 2025"
    assert text(page.select_one(".st-now")) == "now: Ukraine 1,000/1,000, Russia 1,000/1,000"
    assert root(page)["data-as-of"] == "2025-05-23"
    two_days, _ = widget(client, "as_of=2025-05-24&view=chart")
    assert texts(two_days, ".st-figure strong") == ["697", "697"]
    assert len(two_days.select(".st-chart polyline")) == 2
    before, _ = widget(client, "as_of=2025-05-01")
    assert texts(before, ".st-figure strong") == ["0", "0"]
    assert before.select(".st-progress") == []
    later, _ = widget(client, "as_of=2025-06-01")
    assert texts(later, ".st-figure strong") == ["1,000", "1,000"]
    assert later.select(".st-now") == []  # the same as today: no "now" line


def test_corrected_figures_are_marked(client: TestClient, session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    stage = add_stage(session, exchange, stage_data(a=(300, 0), date=dt.date(2025, 5, 24)))
    page, _ = widget(client)
    assert page.select(".st-corrected") == []
    writes.update_stage(
        session,
        stage=stage,
        data=stage_data(a=(300, 0), date=dt.date(2025, 5, 24), notes="Names checked."),
        expected_version=1,
        actor="test",
    )
    session.commit()
    assert widget(client)[0].select(".st-corrected") == []  # notes are not figures
    current = session.get(Stage, stage.id)
    assert current is not None
    writes.update_stage(
        session,
        stage=current,
        data=stage_data(a=(307, 0), date=dt.date(2025, 5, 24)),
        expected_version=2,
        actor="test",
        reason="Ministry corrected the count",
    )
    session.commit()
    corrected, _ = widget(client)
    assert text(corrected.select_one(".st-corrected")) == "corrected"
    assert "figures corrected since publication" in text(corrected.select_one("#st-summary"))
    pinned, _ = widget(client, "as_of=2025-05-23")  # the corrected stage is not shown
    assert pinned.select(".st-corrected") == []


@pytest.mark.usefixtures("three_days")
def test_accessible_summary_and_a_quiet_live_region(client: TestClient) -> None:
    page, _ = widget(client)
    summary = text(page.select_one("#st-summary"))
    assert summary.startswith(
        "Istanbul 1,000 for 1,000: 697 of 1,000 returned to Ukraine (69.7 %); "
        "697 of 1,000 returned to Russia (69.7 %); day 2 of 3; updated "
    )
    assert page.title is not None
    # The page's title names the iframe (embed.js): short, the figures alone.
    assert text(page.title) == "Istanbul 1,000 for 1,000: Ukraine 697/1,000, Russia 697/1,000"
    assert "st-vh" in page.select_one("#st-summary")["class"]  # type: ignore[index]
    live = page.select_one("#st-live")
    assert live is not None
    assert (live["aria-live"], live.get_text()) == ("polite", "")
    body = page.select_one("#st-body")
    assert body is not None
    assert body["aria-hidden"] == "true"  # read once, from the summary
    assert body["data-figures"] == "a:697:False;b:697:False"
    assert body.select("a, button, input") == []


def test_every_view_stays_under_15_kb(client: TestClient, session: Session) -> None:
    """The heaviest case: long names, 40 stages, pinned with a "now" line, corrected."""
    long_sides = [
        {"key": "a", "name": "A" * 120, "target": {"people": 100_000}},
        {"key": "b", "name": "B" * 120, "target": {"people": 100_000}},
    ]
    exchange = make_exchange(session, title="T" * 300, sides=long_sides, planned_stages=40)
    stages = [
        add_stage(session, exchange, stage_data(date=dt.date(2025, 1, 1) + dt.timedelta(days=i)))
        for i in range(40)
    ]
    writes.update_stage(
        session,
        stage=stages[0],
        data=stage_data(a=(1, 2), date=dt.date(2025, 1, 1)),
        expected_version=1,
        actor="test",
        reason="fix",
    )
    session.commit()
    for view in ("bar", "compact", "chart"):
        for query in (f"view={view}", f"view={view}&as_of=2025-01-30&lang=uk"):
            page, body = widget(client, query)
            assert len(body) < MAX_BYTES, (query, len(body))
            assert page.select_one(".st-corrected") is not None


@pytest.mark.usefixtures("three_days")
@pytest.mark.parametrize("query", ["", "view=chart&theme=dark&lang=uk&as_of=2025-05-23"])
def test_nothing_is_loaded_from_anywhere(client: TestClient, query: str) -> None:
    """No external requests: no URL in any attribute but the relative credit link, no CSS
    url() or @import, no external script or style."""
    page, _ = widget(client, query)
    urls = [
        (element.name, name, value)
        for element in page.find_all(True)
        for name, value in element.attrs.items()
        if name in ("src", "href", "action", "srcset", "poster", "data", "xmlns", "xlink:href")
    ]
    assert urls == [("a", "href", f"/exchanges/{SLUG}")]
    assert page.select("link, img, iframe, object, embed, script[src], form") == []
    style = page.select_one("style")
    assert style is not None
    css = str(style.string)
    assert "url(" not in css
    assert "@import" not in css
    assert not re.search(r"https?://|//[a-z]", str(page.select_one("script")))


@pytest.mark.usefixtures("three_days")
def test_its_csp_allows_exactly_its_inline_style_and_script(client: TestClient) -> None:
    response = client.get(WIDGET)
    page = parse(response.text)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )

    def sha256(source: str) -> str:
        return (
            "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"
        )

    style, script = page.select_one("style"), page.select_one("script")
    assert style is not None
    assert script is not None
    assert policy["style-src"] == sha256(style.string or "")
    assert policy["script-src"] == sha256(script.string or "")
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:8000"
    assert policy["frame-ancestors"] == "*"
    assert "x-frame-options" not in response.headers
    assert "set-cookie" not in response.headers
    assert response.headers["access-control-allow-origin"] == "*"
    assert page.select("[style], [onclick], [onload]") == []  # style-src hashes allow no attributes


@pytest.mark.usefixtures("three_days")
def test_the_widget_script_speaks_every_resize_dialect(client: TestClient) -> None:
    script = str(parse(client.get(WIDGET).text).select_one("script"))
    for dialect in (
        '"pymxPYMx" + childId + "xPYMxheightxPYMx" + height',
        'sentinel: "amp", type: "embed-size"',
        'message: "height", value: height, secret: secret',
        'swaptally: "height", slug: slug, height: height',
        'cache: "no-cache"',
        '"visibilitychange"',
        "Math.max(isNaN(poll) ? 60 : poll, 5)",
    ):
        assert rjsmin.jsmin(dialect) in script  # the page inlines widget.js minified


@pytest.mark.usefixtures("three_days")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("theme=pink", "theme"),
        ("lang=de", "lang"),
        ("side=c", "side"),
        ("view=pie", "view"),
        ("transparent=maybe", "transparent"),
        ("as_of=23-05-2025", "as_of"),
        ("as_of=2025-02-30", "as_of"),
        ("as_of=20250523", "as_of"),
    ],
)
def test_bad_options_are_a_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"{WIDGET}?{query}")
    assert response.status_code == 422
    # In the frame, a small widget naming it (tests/routes/test_embed_unavailable.py).
    assert root(parse(response.text))["data-field"] == field


@pytest.mark.usefixtures("three_days")
def test_host_parameters_are_left_alone(client: TestClient) -> None:
    """pym.js adds its own parameters, and the script reads poll: the same widget, cached once."""
    plain = client.get(WIDGET)
    hosted = client.get(f"{WIDGET}?childId=tally&initialWidth=600&parentUrl=x&poll=5")
    assert hosted.status_code == 200
    assert hosted.headers["etag"] == plain.headers["etag"]


def test_unknown_exchange_is_a_404(client: TestClient) -> None:
    assert client.get("/embed/no-such-swap").status_code == 404
    assert client.get("/embed/Not-A-Slug").status_code == 404


def test_host_script(client: TestClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    assert "x-frame-options" not in response.headers
    again = client.get("/embed.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    script = response.text
    # Sizes only iframes whose window sent the message, from our own origin.
    assert "frames[i].contentWindow === event.source" in script
    assert "if (event.origin !== origin) return;" in script
    assert 'querySelectorAll("div[data-swaptally]:not([data-swaptally-ready])")' in script
    assert "window.SwapTally = { scan: scan, origin: origin };" in script
    assert 'side: "side", party: "party"' in script  # data-party="ukraine,russia"


# ---- v2: every party, its headline figure, and what stands beside it ------------------------


def widget_of(client: TestClient, slug: str, query: str = "") -> BeautifulSoup:
    response = client.get(f"/embed/{slug}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return parse(response.text)


def test_a_deal_of_remains_counts_bodies_never_0_returned(
    client: TestClient, session: Session
) -> None:
    bodies_for_bodies(session)
    page = widget_of(client, BODIES)
    assert texts(page, ".st-figure") == [
        "6,057 bodies returned to Ukraine, of 6,000 101.0 %",
        "21 bodies returned to Russia",
    ]
    assert texts(page, ".st-figure strong") == ["6,057", "21"]
    assert [rect["width"] for rect in page.select(".st-bar .st-fill")] == ["100.0"]
    assert page.select(".st-breakdown, .st-note") == []  # never "military 0 · civilians 0"
    assert text(page.select_one("#st-summary")).startswith(
        "Istanbul bodies for bodies: 6,057 bodies returned to Ukraine, of 6,000 (101.0 %); "
        "21 bodies returned to Russia; day 2 of 2; updated "
    )
    assert page.select_one("#st-body")["data-figures"] == "a:6057:False;b:21:False"  # type: ignore[index]

    first_day = widget_of(client, BODIES, "as_of=2025-06-11")
    assert texts(first_day, ".st-figure") == [
        "1,212 bodies returned to Ukraine, of 6,000 20.2 %",
        "1 body returned to Russia",
    ]
    assert (
        text(first_day.select_one(".st-now")) == "now: Ukraine 6,057/6,000 bodies, Russia 21 bodies"
    )
    ukrainian = widget_of(client, BODIES, "lang=uk")
    assert [inline(figure) for figure in ukrainian.select(".st-figure")] == [
        "Ukraine: повернуто 6 057 тіл з 6 000 101,0 %",
        "Russia: повернуто 21 тіло",
    ]


def test_the_chart_of_a_deal_of_remains_draws_bodies(client: TestClient, session: Session) -> None:
    bodies_for_bodies(session)
    chart = widget_of(client, BODIES, "view=chart")
    assert [line["points"] for line in chart.select(".st-chart polyline")] == [
        "0,169.7 100,48.6",  # 1,212 then 6,057 on a scale to 8,000 (x in %, y in px)
        "0,200 100,199.5",  # 1 then 21
    ]
    assert texts(chart, ".st-chart text") == [
        "0", "2,000", "4,000", "6,000", "8,000", "target 6,000", "Ukraine 6,057", "Russia 21",
        "11 June 2025", "14 June 2025",
    ]  # fmt: skip
    assert len(chart.select(".st-chart .target")) == 1  # Ukraine's 6,000


def test_a_stage_where_only_remains_moved_never_reads_0_returned(
    client: TestClient, session: Session
) -> None:
    exchange(
        session,
        stage(
            dt.date(2025, 5, 23),
            release("russia", "ukraine", 50, kind="remains"),
            release("ukraine", "russia", 12, kind="remains"),
        ),
        parties=[("ukraine", "Ukraine"), ("russia", "Russia")],
        targets=[
            {"received_by": "ukraine", "people": 1000},
            {"received_by": "russia", "people": 1000},
        ],
    )
    page = widget_of(client, SLUG)
    assert texts(page, ".st-figure") == [
        "50 bodies returned to Ukraine",
        "12 bodies returned to Russia",
    ]


def test_every_party_of_a_three_party_exchange(client: TestClient, session: Session) -> None:
    yemen(session)
    page = widget_of(client, YEMEN)
    sides = page.select(".st-side")
    assert [(side.get("data-side"), side["data-party"], side["class"]) for side in sides] == [
        ("a", "houthis", ["st-side", "st-a"]),
        ("b", "saudi-arabia", ["st-side", "st-b"]),
        (None, "yemen-government", ["st-side", "st-c"]),
    ]
    assert texts(page, ".st-figure") == [
        "about 318 of 706 returned to the Houthis 45.0 %",
        "15 of 15 returned to Saudi Arabia 100.0 %",
        "at least 50 of 166 returned to Yemeni government 30.1 %",
    ]
    assert texts(page, ".st-figure strong") == ["about 318", "15", "at least 50"]
    assert texts(page, ".st-side[data-party='saudi-arabia'] .st-outside") == [
        "plus 4 outside the exchange"
    ]
    assert len(page.select(".st-note")) == 1
    assert [rect["width"] for rect in page.select(".st-bar .st-fill")] == ["45.0", "100.0", "30.1"]
    assert text(page.select_one("#st-summary")).startswith(
        "Yemen 887 detainees: about 318 of 706 returned to the Houthis (45.0 %); "
        "15 of 15 returned to Saudi Arabia (100.0 %), plus 4 outside the exchange; "
        "at least 50 of 166 returned to Yemeni government (30.1 %); day 1 of 3; updated "
    )
    assert page.select_one("#st-body")["data-figures"] == (  # type: ignore[index]
        "a:318:False:about;b:15:False:+4/0;yemen-government:50:False:at_least"
    )
    ukrainian = widget_of(client, YEMEN, "lang=uk")
    assert inline(ukrainian.select_one(".st-figure")) == (
        "the Houthis: повернуто близько 318 з 706 45,0 %"
    )
    assert texts(ukrainian, ".st-outside") == ["і ще 4 поза обміном"]
    chart = widget_of(client, YEMEN, "view=chart")
    assert [line["class"] for line in chart.select(".st-chart polyline")] == [
        ["series", "series-a"],
        ["series", "series-b"],
        ["series", "series-c"],
    ]
    assert len(chart.select(".st-chart .target")) == 3


@pytest.mark.parametrize(
    ("query", "parties", "data_party"),
    [
        ("", ["houthis", "saudi-arabia", "yemen-government"], ""),
        ("side=both", ["houthis", "saudi-arabia", "yemen-government"], ""),
        ("side=a", ["houthis"], ""),
        ("side=b", ["saudi-arabia"], ""),
        ("party=yemen-government", ["yemen-government"], "yemen-government"),
        (
            "party=yemen-government,houthis",
            ["yemen-government", "houthis"],
            "yemen-government,houthis",
        ),
        ("party=saudi-arabia%2C%20houthis", ["saudi-arabia", "houthis"], "saudi-arabia,houthis"),
    ],
)
def test_party_chooses_the_parties_and_their_order(
    client: TestClient, session: Session, query: str, parties: list[str], data_party: str
) -> None:
    yemen(session)
    page = widget_of(client, YEMEN, query)
    assert [side["data-party"] for side in page.select(".st-side")] == parties
    assert root(page)["data-party"] == data_party
    summary = text(page.select_one("#st-summary"))
    named = {"houthis": "the Houthis", "saudi-arabia": "Saudi Arabia"}
    named["yemen-government"] = "Yemeni government"
    assert [slug for slug in named if f"returned to {named[slug]}" in summary] == sorted(parties)


def test_party_picks_the_chart_lines_and_keeps_their_colours(
    client: TestClient, session: Session
) -> None:
    yemen(session)
    chart = widget_of(client, YEMEN, "view=chart&party=yemen-government,saudi-arabia")
    assert [line["class"] for line in chart.select(".st-chart polyline")] == [
        ["series", "series-c"],
        ["series", "series-b"],
    ]
    assert texts(chart, ".st-figure strong") == ["at least 50", "15"]


PARTY_ERRORS = [
    (
        "party=nobody",
        "nobody is not a party of this exchange; choose from: houthis, saudi-arabia, "
        "yemen-government.",
    ),
    ("party=houthis&side=a", "Give party or side, not both."),
    ("side=both&party=houthis", "Give party or side, not both."),
    ("party=Houthis", "Give party slugs separated by commas."),
    ("party=houthis,", "Give party slugs separated by commas."),
    ("party=houthis,houthis", "Name each party once."),
]


@pytest.mark.parametrize(("query", "message"), PARTY_ERRORS)
def test_a_bad_party_is_a_422_naming_party(
    client: TestClient, session: Session, query: str, message: str
) -> None:
    yemen(session)
    response = client.get(f"/embed/{YEMEN}?{query}")
    assert response.status_code == 422
    page = parse(response.text)
    assert root(page)["data-field"] == "party"
    assert text(page.select_one(".st-meta")) == f"The embed code's party option: {message}"


def test_a_disputed_figure_carries_the_announcers_range(
    client: TestClient, session: Session
) -> None:
    disputed(session)
    page = widget_of(client, DISPUTED)
    assert texts(page, ".st-figure") == ["207 returned to Ukraine", "195 returned to Russia"]
    assert texts(page, ".st-side[data-side='a'] .st-range") == [
        "announcers' figures range from 195 to 207"
    ]
    assert len(page.select(".st-range")) == 1
    assert text(page.select_one("#st-summary")).startswith(
        "UAE-mediated 207 for 195: 207 returned to Ukraine; announcers' figures range from 195 "
        "to 207 (Ukraine's Coordination Headquarters: 207; Russian Defence Ministry: 195); "
        "195 returned to Russia; 1 stage; updated "
    )
    assert page.select_one("#st-body")["data-figures"] == "a:207:False:195-207:1;b:195:False"  # type: ignore[index]
    ukrainian = widget_of(client, DISPUTED, "lang=uk")
    assert texts(ukrainian, ".st-range") == ["оголошені цифри — від 195 до 207"]


def test_an_editor_marked_dispute_is_shown_too(client: TestClient, session: Session) -> None:
    make_exchange(
        session,
        stage_data(a=(270, 120), status="disputed", disputed_reason="Names do not match"),
    )
    page, _ = widget(client)
    assert texts(page, ".st-range") == ["figures disputed", "figures disputed"]
    assert "; figures disputed; " in text(page.select_one("#st-summary"))


def corrected_everywhere(client: TestClient) -> tuple[bool, bool, bool, bool]:
    """Whether the widget, its summary, the image and the oEmbed text say "corrected"."""
    page, _ = widget(client)
    image = client.get(f"{WIDGET}.svg").text
    answer = client.get("/oembed", params={"url": f"http://127.0.0.1:8000{WIDGET}"}).json()
    return (
        page.select(".st-corrected") != [],
        "figures corrected since publication" in text(page.select_one("#st-summary")),
        ">corrected</text>" in image,
        "figures corrected since publication" in answer["html"],
    )


def test_notes_drafts_publishing_and_amendments_are_never_corrections(
    client: TestClient, session: Session
) -> None:
    """Corrections are decided when written (Revision.is_correction): only a changed counted
    figure of a published stage is one, and every rendering reads that decision."""
    exchange_row = make_exchange(session, stage_data(a=(270, 120)))
    day = dt.date(2025, 5, 24)
    draft = add_stage(session, exchange_row, stage_data(a=(300, 0), date=day, published=False))
    saves = [
        stage_data(a=(300, 0), date=day, published=False, notes="Names pending."),  # draft notes
        stage_data(a=(307, 0), date=day, published=False, notes="Names pending."),  # draft figure
        stage_data(a=(307, 0), date=day, notes="Names pending."),  # publishing it
        stage_data(a=(307, 0), date=day, notes="Names checked."),  # a published stage's notes
    ]
    for version, data in enumerate(saves, start=1):
        current = session.get(Stage, draft.id)
        assert current is not None
        writes.update_stage(session, stage=current, data=data, expected_version=version, actor="t")
        session.commit()
        assert corrected_everywhere(client) == (False, False, False, False), version
    amendment = TermsIn(
        effective=dt.date(2025, 5, 24),
        kind="amendment",
        planned_stages=4,
        targets=[
            TargetIn(received_by="ukraine", people=1200),
            TargetIn(received_by="russia", people=1200),
        ],
    )
    writes.add_terms(session, exchange=exchange_row, data=amendment, actor="t")
    session.commit()
    assert texts(widget(client)[0], ".st-figure")[0] == "697 of 1,200 returned to Ukraine 58.1 %"
    assert corrected_everywhere(client) == (False, False, False, False)

    current = session.get(Stage, draft.id)
    assert current is not None
    writes.update_stage(
        session,
        stage=current,
        data=stage_data(a=(310, 0), date=day, notes="Names checked."),
        expected_version=5,
        actor="t",
        reason="Three more confirmed",
    )
    session.commit()
    assert corrected_everywhere(client) == (True, True, True, True)


def test_four_parties_in_every_view_stay_under_15_kb(client: TestClient, session: Session) -> None:
    slugs = [f"party-{n}" for n in range(4)]
    parties = [(slug, slug.upper() * 12) for slug in slugs]  # 84-character names
    releases = [
        release(slugs[(n + 1) % 4], slug, 10, qualifier="about") for n, slug in enumerate(slugs)
    ] + [release(slugs[0], slug, 1, outside_deal=True) for slug in slugs[1:]]
    exchange(
        session,
        *(stage(dt.date(2025, 1, 1) + dt.timedelta(days=i), *releases) for i in range(40)),
        title="T" * 300,
        parties=parties,
        targets=[{"received_by": slug, "people": 100_000} for slug in slugs],
        planned_stages=40,
    )
    for view in ("bar", "compact", "chart"):
        for query in (f"view={view}", f"view={view}&as_of=2025-01-30&lang=uk"):
            page, body = widget(client, query)
            assert len(body) < MAX_BYTES, (query, len(body))
            assert len(page.select(".st-side")) == 4
            assert len(page.select(".st-outside")) == 3
