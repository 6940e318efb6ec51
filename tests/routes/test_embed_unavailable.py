"""A widget that cannot be shown still belongs in the article: an unknown or deleted exchange and
a bad option get a small widget in the frame (its language, its theme, its height posted), with
the status a script expects, never the site's header and navigation or raw JSON."""

import base64
import datetime as dt
import hashlib

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Exchange
from tests.embedded_exchanges import YEMEN, yemen
from tests.factories import make_exchange, stage_data
from tests.html import parse, text

SLUG = "istanbul-1000-for-1000"
GONE_EN = "This tally is no longer available"
GONE_UK = "Цей підсумок більше не доступний"
BAD_EN = "This tally cannot be shown"
BAD_UK = "Цей підсумок неможливо показати"


def unavailable(client: TestClient, path: str, status: int) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-frame-options" not in response.headers
    page = parse(response.text)
    # The widget's frame, not the site's page: no header, navigation, footer, site styles.
    assert page.select("header, nav, footer, link, form, img, iframe, script[src]") == []
    assert len(page.select("a")) == 1
    return page


def heading(page: BeautifulSoup) -> str:
    return text(page.select_one("#st-widget .st-title"))


@pytest.fixture
def exchange(session: Session) -> Exchange:
    return make_exchange(session, stage_data(a=(270, 120)))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/embed/no-such-swap", 404),
        ("/embed/no-such-swap?view=compact&theme=dark", 404),
        ("/embed/Not-A-Slug", 404),
        ("/embed/istanbul-1000-for-1000/", 404),
        ("/embed/a/b/c", 404),
    ],
)
def test_an_unknown_exchange_is_a_small_404_widget(
    client: TestClient, path: str, status: int
) -> None:
    page = unavailable(client, path, status)
    assert heading(page) == GONE_EN
    assert page.select_one("#st-widget")["data-error"] == "not-found"  # type: ignore[index]
    link = page.select_one(".st-credit a")
    assert link is not None
    assert (text(link), link["href"], link["target"]) == (
        "See every exchange on Swap Tally",
        "/",
        "_blank",
    )
    assert page.title is not None
    assert text(page.title) == GONE_EN  # the host script names the iframe after it
    assert page.select("#st-body, .st-side") == []  # nothing to poll for


def test_it_speaks_the_widgets_language_and_wears_its_theme(client: TestClient) -> None:
    page = unavailable(client, "/embed/no-such-swap?lang=uk&theme=dark&transparent=1", 404)
    assert page.html is not None
    assert (page.html["lang"], page.html["class"]) == ("uk", ["st-dark", "st-transparent"])
    meta = page.select_one('meta[name="color-scheme"]')
    assert meta is not None
    assert meta["content"] == "dark"
    assert heading(page) == GONE_UK
    assert text(page.select_one(".st-credit a")) == "Усі обміни на Swap Tally"


def test_a_deleted_or_unpublished_exchange_is_no_longer_available(
    client: TestClient, session: Session, exchange: Exchange
) -> None:
    assert client.get(f"/embed/{SLUG}").status_code == 200
    exchange.deleted_at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    session.add(exchange)
    session.commit()
    page = unavailable(client, f"/embed/{SLUG}?lang=uk", 404)
    assert heading(page) == GONE_UK
    exchange.deleted_at, exchange.published = None, False
    session.add(exchange)
    session.commit()
    page = unavailable(client, f"/embed/{SLUG}?view=chart", 404)
    assert heading(page) == GONE_EN


@pytest.mark.usefixtures("exchange")
@pytest.mark.parametrize(
    ("query", "field", "english", "ukrainian"),
    [
        (
            "view=pie",
            "view",
            "The embed code's view option: Choose one of: bar, compact, chart.",
            "Параметр view у коді вбудовування: Виберіть одне з: bar, compact, chart.",
        ),
        (
            "theme=pink",
            "theme",
            "The embed code's theme option: Choose one of: auto, light, dark.",
            "Параметр theme у коді вбудовування: Виберіть одне з: auto, light, dark.",
        ),
        (
            "as_of=23-05-2025",
            "as_of",
            "The embed code's as_of option: Use a date as YYYY-MM-DD.",
            "Параметр as_of у коді вбудовування: Вкажіть дату у форматі РРРР-ММ-ДД.",
        ),
        (
            "transparent=maybe",
            "transparent",
            "The embed code's transparent option: Use 1 or 0.",
            "Параметр transparent у коді вбудовування: Вкажіть 1 або 0.",
        ),
    ],
)
def test_a_bad_option_is_a_422_widget_naming_it(
    client: TestClient, query: str, field: str, english: str, ukrainian: str
) -> None:
    page = unavailable(client, f"/embed/{SLUG}?{query}", 422)
    assert heading(page) == BAD_EN
    assert page.select_one("#st-widget")["data-field"] == field  # type: ignore[index]
    assert text(page.select_one(".st-meta")) == english
    page = unavailable(client, f"/embed/{SLUG}?{query}&lang=uk", 422)
    assert heading(page) == BAD_UK
    assert text(page.select_one(".st-meta")) == ukrainian


@pytest.mark.usefixtures("exchange")
def test_a_bad_language_falls_back_to_english(client: TestClient) -> None:
    page = unavailable(client, f"/embed/{SLUG}?lang=de&theme=dark", 422)
    assert page.html is not None
    assert (page.html["lang"], page.html["class"]) == ("en", ["st-dark"])
    assert text(page.select_one(".st-meta")) == (
        "The embed code's lang option: Choose one of: en, uk."
    )


def test_a_party_the_exchange_does_not_have_is_a_422_widget(
    client: TestClient, session: Session
) -> None:
    yemen(session)
    page = unavailable(client, f"/embed/{YEMEN}?party=nobody&lang=uk", 422)
    assert page.select_one("#st-widget")["data-field"] == "party"  # type: ignore[index]
    assert text(page.select_one(".st-meta")) == (
        "Параметр party у коді вбудовування: nobody не є стороною цього обміну; виберіть із: "
        "houthis, saudi-arabia, yemen-government."
    )
    page = unavailable(client, f"/embed/{YEMEN}?party=houthis&side=a", 422)
    assert text(page.select_one(".st-meta")) == (
        "The embed code's party option: Give party or side, not both."
    )


@pytest.mark.usefixtures("exchange")
@pytest.mark.parametrize("path", ["/embed/no-such-swap", f"/embed/{SLUG}?view=pie"])
def test_it_sizes_itself_with_the_widgets_script_under_the_widgets_policy(
    client: TestClient, path: str
) -> None:
    """The same inline script as the widget (every resize dialect), allowed by hash alone."""
    widget = client.get(f"/embed/{SLUG}")
    response = client.get(path)
    page = parse(response.text)
    script, style = page.select_one("script"), page.select_one("style")
    assert script is not None
    assert style is not None
    assert script.string == parse(widget.text).select_one("script").string  # type: ignore[union-attr]
    assert 'sentinel:"amp",type:"embed-size"' in str(script.string)  # widget.js, minified

    def sha256(source: str) -> str:
        return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()

    policy = response.headers["content-security-policy"]
    assert f"script-src '{sha256(script.string or '')}';" in policy
    assert f"style-src '{sha256(style.string or '')}';" in policy
    assert "default-src 'none';" in policy
    assert "frame-ancestors *" in policy
    assert page.select("[style], [onclick], [onload]") == []


def test_pictures_of_an_unknown_exchange_keep_their_json_404(client: TestClient) -> None:
    for path in ("/embed/no-such-swap.png", "/embed/Not-A-Slug.svg"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
