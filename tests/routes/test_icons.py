"""The favicon, the home-screen icon and the web app manifest: where browsers and phones look."""

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.html import parse

BLUE = (0x0B, 0x57, 0xA4, 255)  # the favicon's background


def test_the_favicon_is_served(client: TestClient) -> None:
    icon = client.get("/favicon.ico", follow_redirects=False)
    assert (icon.status_code, icon.headers["location"]) == (301, "/static/img/favicon.svg")
    svg = client.get("/static/img/favicon.svg")
    assert (svg.status_code, svg.headers["content-type"]) == (200, "image/svg+xml")
    page = parse(client.get("/").text)
    assert page.select_one('link[rel="icon"]')["href"] == "/static/img/favicon.svg"  # type: ignore[index]


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/apple-touch-icon.png", 180),
        ("/apple-touch-icon-precomposed.png", 180),
        ("/icons/192.png", 192),
        ("/icons/512.png", 512),
    ],
)
def test_png_icons_are_the_favicon_drawn_square(client: TestClient, path: str, size: int) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["content-type"]) == (200, "image/png")
    assert "public" in response.headers["cache-control"]
    image = Image.open(io.BytesIO(response.content)).convert("RGBA")
    assert image.size == (size, size)
    # Filled to the corner (a phone rounds it, and paints transparency black), white arrows inside.
    assert image.getpixel((0, 0)) == image.getpixel((size - 1, size - 1)) == BLUE
    assert (255, 255, 255, 255) in {color for _, color in image.getcolors(size * size) or []}


def test_pages_link_the_home_screen_icon_and_a_manifest_naming_real_icons(
    client: TestClient,
) -> None:
    page = parse(client.get("/").text)
    assert page.select_one('link[rel="apple-touch-icon"]')["href"] == "/apple-touch-icon.png"  # type: ignore[index]
    manifest = client.get(page.select_one('link[rel="manifest"]')["href"])  # type: ignore[arg-type,index]
    assert manifest.headers["content-type"] == "application/manifest+json"
    body = manifest.json()
    assert (body["name"], body["start_url"]) == ("Swap Tally", "/")
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon


@pytest.mark.parametrize("path", ["/icons/100.png", "/icons/big.png", "/icons/-1.png"])
def test_an_icon_size_we_do_not_draw_is_a_4xx(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith("application/json")
