"""The home page lists exchanges with their tallies, and serves htmx from npm."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_exchange, stage_data


def test_dashboard_shows_each_side_against_its_target(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(270, None)))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["vary"] == "HX-Request"
    article = re.search(
        r'<article class="exchange" id="exchange-istanbul-1000-for-1000">(.*?)</article>',
        response.text,
        re.S,
    )
    assert article is not None
    figures = [
        " ".join(re.sub(r"<[^>]+>", "", f).split())
        for f in re.findall(r'<p class="figure">(.*?)</p>', article.group(1), re.S)
    ]
    assert figures == [
        "390 of 1,000 returned to Ukraine (39.0 %)",
        "at least 270 of 1,000 returned to Russia (27.0 %)",
    ]


def test_user_text_is_escaped(client: TestClient, session: Session) -> None:
    make_exchange(session, title="<script>alert(1)</script>")
    text = client.get("/").text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_htmx_is_served_from_the_npm_package(client: TestClient) -> None:
    page = client.get("/").text
    match = re.search(r'<script src="([^"]+htmx\.min\.js)"', page)
    assert match is not None
    script = client.get(match.group(1))
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]
