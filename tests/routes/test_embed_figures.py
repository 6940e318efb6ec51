"""Truthful figures in every embed view and image: the headline measure of a deal of remains, who
said what where announcers disagree, "updated" as the last change of the exchange's own figures,
and content in the widget's language."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import images, seed
from app.models import Revision, Stage
from tests.embedded_exchanges import exchange, release, stage
from tests.factories import (
    SOURCE,
    correct_stage,
    make_exchange,
    name_parties_in_ukrainian,
    stage_data,
)
from tests.html import inline, parse, text, texts

BODIES = "2025-istanbul-2-bodies"  # the bundled June 2025 repatriation: 6,000 bodies each way
ISTANBUL = "istanbul-1000-for-1000"
SVG = "{http://www.w3.org/2000/svg}"


def widget(client: TestClient, slug: str, query: str = "") -> BeautifulSoup:
    response = client.get(f"/embed/{slug}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return parse(response.text)


def image(client: TestClient, slug: str, image_format: str, query: str = "") -> bytes:
    response = client.get(f"/embed/{slug}.{image_format}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return response.content


def drawn(svg: bytes, role: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter(f"{SVG}text") if el.get("class") == role]


@pytest.fixture
def seeded(session: Session) -> None:
    seed.load(session)
    session.commit()


@pytest.mark.usefixtures("seeded")
def test_the_bundled_bodies_exchange_leads_with_bodies_in_every_image(client: TestClient) -> None:
    svg = image(client, BODIES, "svg")
    assert drawn(svg, "side-name") == ["Ukraine", "Russia"]
    assert drawn(svg, "figure") == [
        "6,057 bodies of 6,000 (101.0 %)",
        "at least 78 bodies of 6,000 (1.3 %)",
    ]
    # The PNG is the same picture, pixel for pixel: what the SVG says, it says.
    assert image(client, BODIES, "png") == images.rasterise(svg.decode())
    social = image(client, BODIES, "svg", "og=1&lang=uk")
    assert drawn(social, "figure") == [
        "6 057 тіл з 6 000 (101,0 %)",
        "щонайменше 78 тіл з 6 000 (1,3 %)",
    ]
    page = widget(client, BODIES, "view=compact")
    assert texts(page, ".st-figure strong") == ["6,057", "at least 78"]
    assert "0 returned" not in text(page.select_one("#st-summary"))


@pytest.mark.usefixtures("seeded")
def test_updated_is_the_last_change_of_the_exchange_not_the_load(client: TestClient) -> None:
    """Loaded today, the Istanbul swap's figures last changed on its last day, 25 May 2025."""
    assert text(widget(client, ISTANBUL).select_one(".st-when")) == "updated 25 May 2025"
    pinned = widget(client, ISTANBUL, "as_of=2025-05-24")
    assert text(pinned.select_one(".st-when")) == "as of 24 May 2025"
    ukrainian = widget(client, ISTANBUL, "lang=uk")
    assert text(ukrainian.select_one(".st-when")) == "оновлено 25 травня 2025 р."
    assert text(ukrainian.select_one("#st-summary")).endswith("оновлено 25 травня 2025 р.")
    assert drawn(image(client, ISTANBUL, "svg"), "status") == ["3 stages · updated 25 May 2025"]


def test_an_editors_change_is_when_the_figures_were_updated(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    entered = dt.datetime(2025, 5, 23, 18, 40, tzinfo=dt.UTC)  # minutes after the announcement
    for revision in session.exec(select(Revision)):
        revision.at = entered
        session.add(revision)
    session.commit()
    assert text(widget(client, ISTANBUL).select_one(".st-when")) == (
        "updated 23 May 2025, 18:40 UTC"
    )
    created = session.exec(select(Stage)).one()
    assert created.id is not None
    at = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    correct_stage(session, created.id, stage_data(a=(271, 120)), reason="One more soldier", at=at)
    assert text(widget(client, ISTANBUL).select_one(".st-when")) == (
        "updated 30 November 2026, 09:15 UTC"
    )
    pinned = widget(client, ISTANBUL, "as_of=2025-05-23")
    assert text(pinned.select_one(".st-when")) == (
        "as of 23 May 2025 · updated 30 November 2026, 09:15 UTC"
    )
    # A stage dated after the pinned day changes nothing the pinned widget shows.
    before = widget(client, ISTANBUL, "as_of=2025-05-22")
    assert text(before.select_one(".st-when")) == "as of 22 May 2025 · updated 16 May 2025"


def claim(announcer: str, speaks_for: str, **figures: int) -> dict[str, object]:
    return SOURCE | {
        "url": f"https://example.org/{speaks_for}",
        "announcer": announcer,
        "speaks_for": speaks_for,
        "figures": [{"received_by": "ukraine", **figures}],
    }


def eighty_four(session: Session) -> None:
    """Kyiv: 33 soldiers and 51 civilians came home; Moscow: 84 soldiers. The total agrees."""
    exchange(
        session,
        stage(
            dt.date(2025, 8, 14),
            release("russia", "ukraine", None, military=33, civilian=51, people=84),
            release("ukraine", "russia", 84),
            sources=[
                claim("Coordination Headquarters", "ukraine", military=33, civilian=51),
                claim("Russian Defence Ministry", "russia", military=84, civilian=0),
            ],
        ),
        slug="84-for-84",
        title="84 for 84",
        conflict={"slug": "russia-ukraine-war", "name": "Russia-Ukraine war"},
        parties=[("ukraine", "Ukraine"), ("russia", "Russia")],
        targets=[],
    )


BOTH = (
    "Coordination Headquarters: 33 soldiers + 51 civilians; Russian Defence Ministry: 84 soldiers"
)


@pytest.mark.parametrize("view", ["bar", "compact", "chart"])
def test_a_disputed_stage_shows_both_figures(
    client: TestClient, session: Session, view: str
) -> None:
    eighty_four(session)
    page = widget(client, "84-for-84", f"view={view}")
    assert texts(page, ".st-side[data-party='ukraine'] .st-claims") == [BOTH]
    assert page.select(".st-side[data-party='russia'] .st-claims") == []
    assert f"84 returned to Ukraine; figures disputed ({BOTH}); " in text(
        page.select_one("#st-summary")
    )


def test_a_disputed_stage_reads_in_ukrainian_with_english_names_marked(
    client: TestClient, session: Session
) -> None:
    eighty_four(session)
    page = widget(client, "84-for-84", "lang=uk")
    claims = page.select_one(".st-claims")
    assert inline(claims) == (
        "Coordination Headquarters: 33 військові + 51 цивільний; "
        "Russian Defence Ministry: 84 військові"
    )
    assert claims is not None
    assert [span["lang"] for span in claims.select("span")] == ["en", "en"]


def test_ukrainian_widget_and_image_show_ukrainian_titles_and_party_names(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data(a=(270, 120)), title_uk="Стамбул: 1000 на 1000")
    name_parties_in_ukrainian(session, ukraine="Україна")
    page = widget(client, ISTANBUL, "lang=uk")
    assert text(page.select_one(".st-title")) == "Стамбул: 1000 на 1000"
    assert [inline(figure) for figure in page.select(".st-figure")] == [
        "Україна: повернуто 390 з 1 000 39,0 %",
        "Russia: повернуто 390 з 1 000 39,0 %",
    ]
    # Russia has no Ukrainian name yet: English, marked so a screen reader says it in English.
    assert [span["lang"] for span in page.select(".st-figure span[lang]")] == ["en"]
    summary = inline(page.select_one("#st-summary"))
    assert summary.startswith("Стамбул: 1000 на 1000: Україна: повернуто 390 з 1 000 (39,0 %); ")
    title = page.select_one("title")
    assert title is not None
    assert text(title).startswith("Стамбул: 1000 на 1000: Україна")
    svg = image(client, ISTANBUL, "svg", "lang=uk")
    assert drawn(svg, "title") == ["Стамбул: 1000 на 1000"]
    assert drawn(svg, "side-name") == ["Україна", "Russia"]
    english = widget(client, ISTANBUL)
    assert text(english.select_one(".st-title")) == "Istanbul 1,000 for 1,000"
    assert english.select(".st-figure span[lang]") == []


IMG_ACCEPT = {"accept": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}


@pytest.mark.parametrize("image_format", ["png", "svg"])
@pytest.mark.parametrize(
    ("address", "status", "said"),
    [
        ("/embed/no-such-swap", 404, "Swap Tally: no published exchange at this address"),
        (f"/embed/{ISTANBUL}", 422, "Swap Tally: w: Give whole pixels from 240 to 2400."),
    ],
)
def test_an_img_gets_its_error_as_a_small_picture(
    client: TestClient, session: Session, image_format: str, address: str, status: int, said: str
) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    query = "?w=10" if status == 422 else ""
    response = client.get(f"{address}.{image_format}{query}", headers=IMG_ACCEPT)
    assert response.status_code == status
    assert response.headers["content-type"] == images_type(image_format)
    assert response.headers["cache-control"] == "no-store"
    svg = images.render_error_svg(said)
    expected = images.rasterise(svg) if image_format == "png" else svg.encode()
    assert response.content == expected
    if image_format == "svg":
        assert drawn(response.content, "") == []  # no tally roles, just the sentence
        assert said in response.text
    # Scripts and tools still get the JSON error naming the parameter.
    plain = client.get(f"{address}.{image_format}{query}")
    assert plain.status_code == status
    assert plain.headers["content-type"] == "application/json"


def images_type(image_format: str) -> str:
    return {"png": "image/png", "svg": "image/svg+xml"}[image_format]
