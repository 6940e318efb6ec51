"""Cached embeds' own way out (`CachedEmbed` in app/routes/embed.py, the widget's and the
images' routes): what it sends is what rendering and `HttpCache.answer` send, and whatever it
does not serve still goes that way."""

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app.main import create_app
from app.routes import embed
from app.settings import Settings
from tests.factories import add_stage, make_exchange, stage_data

URL = "/embed/istanbul-1000-for-1000"


def without_id(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    """Every header in order, but the request id, which is new for each request."""
    return [(name, value) for name, value in response.headers.raw if name != b"x-request-id"]


@pytest.fixture
def exchange(session: Session) -> None:
    make_exchange(session, stage_data())


@pytest.mark.usefixtures("exchange")
@pytest.mark.parametrize("query", ["", "?theme=dark&view=compact", "?party=ukraine&lang=uk"])
def test_a_cached_widget_is_its_first_answer_again(client: TestClient, query: str) -> None:
    first = client.get(URL + query)  # rendered
    again = client.get(URL + query)  # from the cache, by Widget
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert without_id(again) == without_id(first)
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert again.headers["content-length"] == str(len(first.content))


@pytest.mark.usefixtures("exchange")
def test_a_cached_widget_revalidates_as_a_rendered_one_does(
    settings: Settings,
    engine: Engine,  # noqa: ARG001 (schema)
) -> None:
    with TestClient(create_app(settings)) as client:
        etag = client.get(URL).headers["etag"]
    with TestClient(create_app(settings)) as client:  # a new process: nothing cached
        rendered = client.get(URL, headers={"If-None-Match": etag})
        cached = client.get(URL, headers={"If-None-Match": f'W/"other", {etag}'})
    assert (rendered.status_code, cached.status_code) == (304, 304)
    assert cached.content == b""
    assert without_id(cached) == without_id(rendered)
    assert cached.headers["etag"] == etag


@pytest.mark.usefixtures("exchange")
def test_a_new_revision_is_rendered_afresh(client: TestClient, session: Session) -> None:
    before = client.get(URL)
    assert client.get(URL).headers["etag"] == before.headers["etag"]
    exchange = make_exchange(session, slug="second", title="Second")
    add_stage(session, exchange, stage_data())  # any write moves the revision
    assert client.get(URL).headers["etag"] == before.headers["etag"]  # same body, same tag
    change = client.get(f"/embed/{exchange.slug}")
    add_stage(session, exchange, stage_data(date="2025-05-24"))
    assert client.get(f"/embed/{exchange.slug}").headers["etag"] != change.headers["etag"]


@pytest.mark.usefixtures("exchange")
def test_what_widget_does_not_serve_goes_the_rendering_way(client: TestClient) -> None:
    assert client.get(URL).status_code == 200  # now cached
    head = client.head(URL)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == client.get(URL).headers["etag"]
    bad = client.get(URL + "?theme=purple")
    assert bad.status_code == 422
    assert client.get(URL + "?theme=purple").status_code == 422
    assert client.get("/embed/no-such-exchange").status_code == 404


@pytest.mark.usefixtures("exchange")
@pytest.mark.parametrize("address", [".png?og=1", ".svg?w=600&h=200&theme=dark"])
def test_a_cached_image_is_its_first_answer_again(client: TestClient, address: str) -> None:
    first = client.get(URL + address)  # rendered
    again = client.get(URL + address)  # from the cache
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert without_id(again) == without_id(first)
    etag = {"If-None-Match": first.headers["etag"]}
    assert client.get(URL + address, headers=etag).status_code == 304


@pytest.mark.usefixtures("exchange")
def test_an_image_that_cannot_be_drawn_still_goes_the_rendering_way(client: TestClient) -> None:
    assert client.get(URL + ".png?og=1").status_code == 200  # now cached
    picture = {"Accept": "image/avif,image/webp,*/*"}
    bad = client.get(URL + ".png?og=1&theme=purple", headers=picture)
    assert (bad.status_code, bad.headers["content-type"]) == (422, "image/png")
    assert client.get(URL + ".png?og=1&theme=purple").json()["detail"][0]["loc"] == [
        "query",
        "theme",
    ]
    missing = client.get("/embed/no-such-exchange.png", headers=picture)
    assert (missing.status_code, missing.headers["content-type"]) == (404, "image/png")


def test_the_embeds_routes_are_tried_first(client: TestClient) -> None:
    """Before the static files, the API and the pages: a cached embed meets no other route."""
    routes = client.app.router.routes  # type: ignore[attr-defined]
    assert routes[:2] == [embed.widget_route, embed.image_route]
