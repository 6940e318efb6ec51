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
from tests.factories import add_stage, make_exchange, stage_data

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
