"""oEmbed: rich answers for exchange pages and widgets, sized to the consumer, and its errors."""

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.embedded_exchanges import BODIES, DISPUTED, YEMEN, bodies_for_bodies, disputed, yemen
from tests.factories import make_exchange, stage_data
from tests.html import parse, text

BASE = "http://127.0.0.1:8000"  # the test settings' BASE_URL
SLUG = "istanbul-1000-for-1000"
PAGE = f"{BASE}/exchanges/{SLUG}"


def oembed(client: TestClient, url: str, **params: str) -> dict[str, object]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(f"/oembed?url={quote(url, safe='')}" + (f"&{query}" if query else ""))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, object] = response.json()
    return answer


@pytest.fixture
def exchange(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))


@pytest.mark.usefixtures("exchange")
def test_an_exchange_page_is_a_rich_embed(client: TestClient) -> None:
    answer = oembed(client, PAGE, format="json")
    html = answer.pop("html")
    assert answer == {
        "version": "1.0",
        "type": "rich",
        "title": "Istanbul 1,000 for 1,000",
        "provider_name": "Swap Tally",
        "provider_url": f"{BASE}/",
        "cache_age": 60,
        "width": 600,
        "height": 327,  # the whole widget at 300 px (app/embed_fit.py)
        "thumbnail_url": f"{BASE}/embed/{SLUG}.png?w=600&h=315",
        "thumbnail_width": 600,
        "thumbnail_height": 315,
    }
    assert isinstance(html, str)
    code = parse(html)
    assert code.select("script") == []
    quote_text = text(code.select_one("blockquote p"))
    assert quote_text.startswith(
        "Istanbul 1,000 for 1,000: 390 of 1,000 returned to Ukraine (39.0 %); "
        "390 of 1,000 returned to Russia (39.0 %); day 1 of 3; updated "
    )
    link = code.select_one("blockquote a")
    assert link is not None
    assert link["href"] == PAGE
    frame = code.select_one("iframe")
    assert frame is not None
    assert (frame["src"], frame["width"], frame["height"]) == (f"{BASE}/embed/{SLUG}", "600", "327")
    assert str(frame["title"]).replace("\u00a0", " ") == quote_text
    assert "color-scheme:light dark" in str(frame["style"])


@pytest.mark.usefixtures("exchange")
def test_a_widget_address_keeps_its_options(client: TestClient) -> None:
    answer = oembed(client, f"{BASE}/embed/{SLUG}?view=compact&theme=dark&side=a&lang=uk")
    assert (answer["width"], answer["height"]) == (600, 155)
    assert answer["thumbnail_url"] == (
        f"{BASE}/embed/{SLUG}.png?view=compact&side=a&theme=dark&lang=uk&w=600&h=315"
    )
    frame = parse(str(answer["html"])).select_one("iframe")
    assert frame is not None
    assert frame["src"] == f"{BASE}/embed/{SLUG}?view=compact&side=a&theme=dark&lang=uk"
    assert "color-scheme:dark" in str(frame["style"])
    assert text(parse(str(answer["html"])).select_one("blockquote p")).startswith(
        "Istanbul 1,000 for 1,000: Ukraine: повернуто 390 з 1 000"
    )


@pytest.mark.usefixtures("exchange")
def test_it_fits_the_consumers_maximum(client: TestClient) -> None:
    answer = oembed(client, PAGE, maxwidth="300", maxheight="200")
    assert (answer["width"], answer["height"]) == (300, 200)
    assert (answer["thumbnail_width"], answer["thumbnail_height"]) == (300, 157)
    assert str(answer["thumbnail_url"]).endswith("?w=300&h=157")
    frame = parse(str(answer["html"])).select_one("iframe")
    assert frame is not None
    assert (frame["width"], frame["height"]) == ("300", "200")
    roomy = oembed(client, PAGE, maxwidth="2000", maxheight="2000")
    assert (roomy["width"], roomy["height"]) == (600, 327)


@pytest.mark.usefixtures("exchange")
def test_it_is_cached_with_an_etag(client: TestClient) -> None:
    url = f"/oembed?url={quote(PAGE, safe='')}"
    first = client.get(url)
    assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.usefixtures("exchange")
@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"{BASE}/exchanges/no-such-swap", 404),
        (f"{BASE}/embed/no-such-swap", 404),
        (f"https://elsewhere.example/exchanges/{SLUG}", 404),
        (f"{BASE}/timeline", 404),
        (f"{BASE}/exchanges/{SLUG}/feed.atom", 404),
        (f"{BASE}/embed/{SLUG}.png", 404),
        ("not a url", 400),
        (f"/exchanges/{SLUG}", 400),
        (f"ftp://127.0.0.1:8000/exchanges/{SLUG}", 400),
        (f"{BASE}/embed/{SLUG}?view=pie", 400),
        (f"{BASE}/embed/{SLUG}?as_of=yesterday", 400),
    ],
)
def test_addresses_it_cannot_embed(client: TestClient, url: str, status: int) -> None:
    response = client.get(f"/oembed?url={quote(url, safe='')}")
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    if status == 400:
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "url"]


@pytest.mark.usefixtures("exchange")
def test_formats_and_sizes_it_refuses(client: TestClient) -> None:
    page = quote(PAGE, safe="")
    assert client.get(f"/oembed?url={page}&format=xml").status_code == 501
    assert client.get(f"/oembed?url={page}&format=yaml").status_code == 501
    for bad in ("maxwidth=0", "maxwidth=wide", "maxheight=-5"):
        response = client.get(f"/oembed?url={page}&{bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", bad.split("=")[0]]
    missing = client.get("/oembed")
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "url"]


def test_every_party_of_a_three_party_exchange(client: TestClient, session: Session) -> None:
    yemen(session)
    answer = oembed(client, f"{BASE}/exchanges/{YEMEN}")
    assert (answer["width"], answer["height"]) == (600, 499)  # a taller first size
    code = parse(str(answer["html"]))
    assert text(code.select_one("blockquote p")).startswith(
        "Yemen 887 detainees: about 318 of 706 returned to the Houthis (45.0 %); "
        "15 of 15 returned to Saudi Arabia (100.0 %), plus 4 outside the exchange; "
        "at least 50 of 166 returned to Yemeni government (30.1 %); day 1 of 3; updated "
    )
    frame = code.select_one("iframe")
    assert frame is not None
    assert frame["height"] == "499"


def test_a_widget_address_keeps_its_parties(client: TestClient, session: Session) -> None:
    yemen(session)
    answer = oembed(client, f"{BASE}/embed/{YEMEN}?party=yemen-government,houthis&view=compact")
    assert (answer["width"], answer["height"]) == (600, 227)
    assert answer["thumbnail_url"] == (
        f"{BASE}/embed/{YEMEN}.png?view=compact&party=yemen-government,houthis&w=600&h=315"
    )
    code = parse(str(answer["html"]))
    frame = code.select_one("iframe")
    assert frame is not None
    assert frame["src"] == f"{BASE}/embed/{YEMEN}?view=compact&party=yemen-government,houthis"
    assert text(code.select_one("blockquote p")).startswith(
        "Yemen 887 detainees: at least 50 of 166 returned to Yemeni government (30.1 %); "
        "about 318 of 706 returned to the Houthis (45.0 %); day 1 of 3; "
    )


def test_a_deal_of_remains_reads_in_bodies(client: TestClient, session: Session) -> None:
    bodies_for_bodies(session)
    answer = oembed(client, f"{BASE}/exchanges/{BODIES}")
    assert text(parse(str(answer["html"])).select_one("blockquote p")).startswith(
        "Istanbul bodies for bodies: 6,057 bodies returned to Ukraine, of 6,000 (101.0 %); "
        "21 bodies returned to Russia; day 2 of 2; updated "
    )


def test_a_disputed_figure_reads_with_its_range(client: TestClient, session: Session) -> None:
    disputed(session)
    answer = oembed(client, f"{BASE}/exchanges/{DISPUTED}")
    assert text(parse(str(answer["html"])).select_one("blockquote p")).startswith(
        "UAE-mediated 207 for 195: 207 returned to Ukraine; announcers' figures range from 195 "
        "to 207 (Ukraine's Coordination Headquarters: 207; Russian Defence Ministry: 195); "
        "195 returned to Russia; 1 stage; updated "
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "party=nobody",
            "party: nobody is not a party of this exchange; choose from: houthis, "
            "saudi-arabia, yemen-government.",
        ),
        ("party=houthis&side=a", "party: Give party or side, not both."),
    ],
)
def test_a_widget_address_with_a_bad_party_is_a_400(
    client: TestClient, session: Session, query: str, message: str
) -> None:
    yemen(session)
    url = quote(f"{BASE}/embed/{YEMEN}?{query}", safe="")
    response = client.get(f"/oembed?url={url}")
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*"
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["query", "url"], message)
