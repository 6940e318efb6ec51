"""/embed/{slug}.png and .svg: the tally as a picture for newsletters, AMP and social cards, with
the widget's options, its size, its cache, and bad options refused by name."""

import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from app import images, writes
from app.models import SLUG_PATTERN, Exchange, Stage
from app.settings import Settings
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
from tests.routes.test_embed import PARTY_ERRORS

SLUG = "istanbul-1000-for-1000"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def two_days(session: Session) -> Stage:
    """The Istanbul swap after its first two days (in progress), 697 each; its second stage."""
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    return add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))


def svg(client: TestClient, query: str = "") -> ET.Element:
    response = client.get(f"/embed/{SLUG}.svg" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    return ET.fromstring(response.content)


def words(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def png(client: TestClient, query: str = "") -> Image.Image:
    response = client.get(f"/embed/{SLUG}.png" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_image_addresses_never_reach_the_widget() -> None:
    """Slugs have no dots, so /embed/{slug} never swallows /embed/{slug}.png or .svg."""
    assert not SLUG_PATTERN.fullmatch(f"{SLUG}.png")


@pytest.mark.usefixtures("two_days")
def test_svg_shows_the_tally_from_the_database(client: TestClient) -> None:
    root = svg(client)
    assert (root.get("width"), root.get("height")) == ("600", "220")
    shown = words(root)
    assert "Ukraine" in shown
    assert "Russia" in shown
    assert shown.count("697 of 1,000 (69.7 %)") == 2
    assert any(line.startswith("day 2 of 3 · updated ") for line in shown)
    title = root.find(f"{SVG}title")
    assert title is not None
    assert "Ukraine: 697 of 1,000 (69.7 %)" in (title.text or "")
    fills = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar-fill"]
    tracks = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar-track"]
    assert len(fills) == len(tracks) == 2
    ratio = float(fills[0].get("width", 0)) / float(tracks[0].get("width", 1))
    assert ratio == pytest.approx(0.697, abs=0.01)


def test_image_follows_a_new_stage_at_once(
    client: TestClient, session: Session, two_days: Stage
) -> None:
    assert words(svg(client)).count("697 of 1,000 (69.7 %)") == 2
    exchange = session.get(Exchange, two_days.exchange_id)
    assert exchange is not None
    add_stage(session, exchange, stage_data(a=(303, 0), date=dt.date(2025, 5, 25)))
    after = words(svg(client))
    assert after.count("1,000 of 1,000 (100.0 %)") == 2
    assert any(line.startswith("day 3 of 3 · ") for line in after)


@pytest.mark.usefixtures("two_days")
def test_ukrainian_one_side_dark(client: TestClient) -> None:
    root = svg(client, "lang=uk&side=a&theme=dark")
    shown = words(root)
    assert "Ukraine" in shown  # side names are the editors' text, never translated
    assert "Russia" not in shown
    assert any(line.startswith("697 з 1 000") for line in shown)
    background = next(root.iter(f"{SVG}rect"))
    assert background.get("fill") == images.PALETTES["dark"].background


@pytest.mark.usefixtures("two_days")
def test_png_sizes(client: TestClient) -> None:
    assert png(client).size == images.DEFAULT_SIZE
    assert png(client, "og=1").size == images.OG_SIZE
    assert png(client, "w=400&h=300").size == (400, 300)
    assert png(client, "og=1&w=800").size == (800, 630)


@pytest.mark.usefixtures("two_days")
def test_transparent_png_has_a_clear_background(client: TestClient) -> None:
    picture = png(client, "transparent=1").convert("RGBA")
    assert picture.getpixel((1, 1))[3] == 0
    assert png(client).convert("RGBA").getpixel((1, 1))[3] == 255


@pytest.mark.usefixtures("two_days")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("w=10", "w"),
        ("w=99999", "w"),
        ("h=abc", "h"),
        ("h=-5", "h"),
        ("w=٣٠٠", "w"),
        ("og=maybe", "og"),
        ("theme=pink", "theme"),
        ("side=c", "side"),
        ("as_of=yesterday", "as_of"),
    ],
)
@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_bad_options_are_named(
    client: TestClient, query: str, field: str, image_format: str
) -> None:
    response = client.get(f"/embed/{SLUG}.{image_format}?{query}")
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_unknown_exchange_or_format(client: TestClient) -> None:
    assert client.get("/embed/no-such-swap.png").status_code == 404
    assert client.get("/embed/no-such-swap.svg").status_code == 404


@pytest.mark.usefixtures("two_days")
def test_images_are_cached_with_etags(client: TestClient) -> None:
    first = client.get(f"/embed/{SLUG}.png?og=1")
    assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    assert first.headers["access-control-allow-origin"] == "*"
    again = client.get(f"/embed/{SLUG}.png?og=1", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get(f"/embed/{SLUG}.png?og=1&theme=dark")
    assert other.headers["etag"] != first.headers["etag"]


@pytest.mark.usefixtures("two_days")
def test_svg_may_run_nothing_when_opened_on_its_own(client: TestClient) -> None:
    response = client.get(f"/embed/{SLUG}.svg")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert b"<script" not in response.content


def test_corrected_figures_are_flagged(
    client: TestClient, session: Session, two_days: Stage
) -> None:
    assert "corrected" not in words(svg(client))
    writes.update_stage(
        session,
        stage=two_days,
        data=stage_data(a=(300, 0), date=dt.date(2025, 5, 24)),
        expected_version=1,
        actor="test",
        reason="Ministry corrected the count",
    )
    session.commit()
    shown = words(svg(client))
    assert "corrected" in shown
    assert shown.count("690 of 1,000 (69.0 %)") == 2
    assert "corrected" not in words(svg(client, "as_of=2025-05-23"))


@pytest.mark.usefixtures("two_days")
def test_pages_point_at_images_that_exist(client: TestClient, settings: Settings) -> None:
    """The exchange page's og:image and oEmbed's thumbnail are pictures of the size they say."""
    page = BeautifulSoup(client.get(f"/exchanges/{SLUG}").text, "html.parser")
    og = page.select_one('meta[property="og:image"]')
    assert og is not None
    width = page.select_one('meta[property="og:image:width"]')
    height = page.select_one('meta[property="og:image:height"]')
    assert width is not None
    assert height is not None
    card = client.get(str(og["content"]))
    assert card.status_code == 200
    assert Image.open(io.BytesIO(card.content)).size == (
        int(str(width["content"])),
        int(str(height["content"])),
    )
    found = client.get(
        "/oembed", params={"url": f"{str(settings.base_url).rstrip('/')}/exchanges/{SLUG}"}
    ).json()
    thumbnail = client.get(found["thumbnail_url"])
    assert thumbnail.status_code == 200
    size = Image.open(io.BytesIO(thumbnail.content)).size
    assert size == (found["thumbnail_width"], found["thumbnail_height"])


# ---- v2: headline figures, every party, and what stands beside them -----------------------


def svg_of(client: TestClient, slug: str, query: str = "") -> ET.Element:
    response = client.get(f"/embed/{slug}.svg" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)


def role(root: ET.Element, name: str) -> list[ET.Element]:
    return root.findall(f".//{SVG}text[@class='{name}']")


def shown(root: ET.Element, name: str) -> list[str]:
    return [element.text or "" for element in role(root, name)]


def test_a_deal_of_remains_is_drawn_in_bodies(client: TestClient, session: Session) -> None:
    bodies_for_bodies(session)
    root = svg_of(client, BODIES)
    assert shown(root, "side-name") == ["Ukraine", "Russia"]
    assert shown(root, "figure") == ["6,057 bodies of 6,000 (101.0 %)", "21 bodies"]
    assert "0" not in words(root)
    fills = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar-fill"]
    tracks = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar-track"]
    assert [fill.get("width") for fill in fills] == [tracks[0].get("width")]  # clamped, once
    title = root.find(f"{SVG}title")
    assert title is not None
    assert "Ukraine: 6,057 bodies of 6,000 (101.0 %); Russia: 21 bodies." in (title.text or "")
    ukrainian = svg_of(client, BODIES, "lang=uk")
    assert shown(ukrainian, "figure") == ["6 057 тіл з 6 000 (101,0 %)", "21 тіло"]
    first_day = svg_of(client, BODIES, "as_of=2025-06-11")
    assert shown(first_day, "figure") == ["1,212 bodies of 6,000 (20.2 %)", "1 body"]


YEMEN_FIGURES = ["about 318 of 706 (45.0 %)", "15 of 15 (100.0 %)", "at least 50 of 166 (30.1 %)"]


def test_three_parties_each_get_a_row_and_a_colour(client: TestClient, session: Session) -> None:
    yemen(session)
    root = svg_of(client, YEMEN)
    palette = images.PALETTES["light"]
    names = role(root, "side-name")
    assert [name.text for name in names] == ["the Houthis", "Saudi Arabia", "Yemeni government"]
    assert [name.get("fill") for name in names] == [
        palette.side_a,
        palette.side_b,
        palette.side_c,
    ]
    assert shown(root, "figure") == YEMEN_FIGURES
    assert shown(root, "note") == ["plus 4 outside the exchange"]
    # 600 x 220 is wide: two parties to a row, the third under the first.
    assert [float(name.get("x", 0)) < 300 for name in names] == [True, False, True]
    ukrainian = svg_of(client, YEMEN, "lang=uk&theme=dark")
    assert shown(ukrainian, "figure")[0] == "близько 318 з 706 (45,0 %)"
    assert shown(ukrainian, "note") == ["і ще 4 поза обміном"]


@pytest.mark.parametrize(
    ("query", "names", "colours"),
    [
        ("party=yemen-government", ["Yemeni government"], ["side_c"]),
        ("party=saudi-arabia,houthis", ["Saudi Arabia", "the Houthis"], ["side_b", "side_a"]),
        ("side=b", ["Saudi Arabia"], ["side_b"]),
    ],
)
def test_party_picks_the_rows_each_in_its_own_colour(
    client: TestClient, session: Session, query: str, names: list[str], colours: list[str]
) -> None:
    yemen(session)
    drawn = role(svg_of(client, YEMEN, query), "side-name")
    assert [name.text for name in drawn] == names
    palette = images.PALETTES["light"]
    assert [name.get("fill") for name in drawn] == [getattr(palette, c) for c in colours]


@pytest.mark.parametrize("size", ["w=240&h=170", "w=600&h=220", "og=1", "w=2400&h=170"])
def test_three_parties_fit_every_size(client: TestClient, session: Session, size: str) -> None:
    yemen(session)
    root = svg_of(client, YEMEN, size)
    assert shown(root, "figure") == YEMEN_FIGURES  # whole, never shortened
    assert shown(root, "note") == ["plus 4 outside the exchange"]
    assert len(role(root, "side-name")) == 3
    response = client.get(f"/embed/{YEMEN}.png?{size}")
    assert response.status_code == 200
    picture = Image.open(io.BytesIO(response.content)).convert("RGB")
    width, height = picture.size
    picture.paste((255, 255, 255), (5, 5, width - 5, height - 5))
    assert picture.getcolors() == [(picture.width * picture.height, (255, 255, 255))]


def test_a_disputed_figure_carries_its_range(client: TestClient, session: Session) -> None:
    disputed(session)
    root = svg_of(client, DISPUTED)
    assert shown(root, "figure") == ["207", "195"]
    assert shown(root, "note") == ["figures disputed: 195 to 207"]


def test_past_four_parties_the_image_says_how_many_more(
    client: TestClient, session: Session
) -> None:
    slugs = ["one", "two", "three", "four", "five", "six"]
    exchange(
        session,
        stage(dt.date(2025, 5, 23), *(release("one", slug, 5) for slug in slugs[1:])),
        parties=[(slug, slug.title()) for slug in slugs],
        targets=[],
    )
    root = svg(client)
    assert shown(root, "side-name") == ["One", "Two", "Three"]
    assert shown(root, "more") == ["and 3 more parties"]
    assert shown(svg(client, "party=six,five,four,three"), "side-name") == [
        "Six",
        "Five",
        "Four",
        "Three",
    ]
    assert shown(svg(client, "lang=uk&party=one,two,three,four,five"), "more") == ["і ще 2 сторони"]


@pytest.mark.parametrize(("query", "message"), PARTY_ERRORS)
@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_a_bad_party_is_named(
    client: TestClient, session: Session, query: str, message: str, image_format: str
) -> None:
    yemen(session)
    response = client.get(f"/embed/{YEMEN}.{image_format}?{query}")
    assert response.status_code == 422, response.text
    assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
        (["query", "party"], message)
    ]
