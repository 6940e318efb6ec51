"""The embed codes' markup: one representation in any host (the text, or the sized widget),
never both; the iframe alone at a height that holds the whole widget; and the host script that
brings the hidden iframe out. How they look in a browser: tests/browser/test_embed_hosts.py."""

import datetime as dt
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import embed_fit
from tests.embedded_exchanges import YEMEN, yemen
from tests.factories import add_stage, make_exchange, stage_data
from tests.html import parse

BASE = "http://127.0.0.1:8000"
SLUG = "istanbul-1000-for-1000"


def builder_code(client: TestClient, kind: str, query: str = "") -> BeautifulSoup:
    response = client.get(f"/exchanges/{SLUG}" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    area = parse(response.text).select_one(f"#embed-code-{kind}")
    assert area is not None
    return parse(area.get_text())


def frame_of(code: BeautifulSoup) -> Tag:
    frame = code.select_one("iframe")
    assert frame is not None
    return frame


@pytest.fixture
def three_days(session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))


@pytest.mark.usefixtures("three_days")
def test_the_script_code_hides_its_iframe_until_the_host_script_hears_from_it(
    client: TestClient,
) -> None:
    code = builder_code(client, "script")
    assert [element.name for element in code.find_all(True, recursive=False)] == [
        "blockquote",
        "iframe",
        "script",
    ]
    quote_ = code.select_one("blockquote")
    assert quote_ is not None
    assert not quote_.has_attr("hidden")
    assert not quote_.has_attr("style")
    frame = frame_of(code)
    # Both, for hosts that strip one of them; lazy, so a hidden frame costs nothing.
    assert frame.has_attr("hidden")
    assert str(frame["style"]).startswith("display:none;border:0;width:100%;")
    assert (frame["loading"], frame["scrolling"], frame["height"]) == ("lazy", "no", "327")
    assert frame["data-swaptally-frame"] == SLUG


@pytest.mark.usefixtures("three_days")
def test_the_iframe_alone_is_shown_at_a_height_that_holds_the_widget(client: TestClient) -> None:
    heights = {}
    for view in ("bar", "compact", "chart"):
        frame = frame_of(builder_code(client, "iframe", f"embed_view={view}"))
        assert not frame.has_attr("hidden")
        assert "display:none" not in str(frame["style"])
        heights[view] = int(str(frame["height"]))
    # The widget at 300 px (a chart at 640 px, as it grows with the width), with room to
    # spare; tests/browser/test_embed_hosts.py measures real widgets against such heights.
    assert heights == {"bar": 327, "compact": 185, "chart": 533}


@pytest.mark.usefixtures("three_days")
def test_oembed_html_is_the_text_with_the_hidden_iframe(client: TestClient) -> None:
    url = quote(f"{BASE}/embed/{SLUG}?view=compact", safe="")
    answer = client.get(f"/oembed?url={url}").json()
    code = parse(answer["html"])
    assert [element.name for element in code.find_all(True, recursive=False)] == [
        "blockquote",
        "iframe",
    ]
    frame = frame_of(code)
    assert frame.has_attr("hidden")
    assert str(frame["style"]).startswith("display:none;")
    assert frame["height"] == str(answer["height"]) == "185"


def test_a_longer_title_and_more_parties_get_a_taller_first_height(
    client: TestClient, session: Session
) -> None:
    yemen(session)
    short = frame_of(builder_code_of(client, YEMEN, "embed_party=houthis"))
    three = frame_of(builder_code_of(client, YEMEN))
    assert int(str(short["height"])) < int(str(three["height"]))


def builder_code_of(client: TestClient, slug: str, query: str = "") -> BeautifulSoup:
    response = client.get(f"/exchanges/{slug}" + (f"?{query}" if query else ""))
    area = parse(response.text).select_one("#embed-code-iframe")
    assert area is not None
    return parse(area.get_text())


def test_lines_wrap_by_whole_words() -> None:
    assert embed_fit._lines("a" * 10, 10.0, 1.0, 100.0) == 1
    assert embed_fit._lines("aaaaa bbbbb", 10.0, 1.0, 100.0) == 2  # 11 characters, 10 a line
    assert embed_fit._lines("a" * 25, 10.0, 1.0, 100.0) == 3  # a long word breaks anyway


def test_the_host_script_brings_a_hidden_iframe_out_only_when_it_reports(
    client: TestClient,
) -> None:
    script = client.get("/embed.js").text
    for step in (
        'frame.style.visibility = "hidden";',  # loads unseen, in place, full width
        'frame.setAttribute("data-swaptally-pending", "");',
        "frame.contentWindow.postMessage(MEASURE, origin);",
        'frame.style.visibility = "";',
        'node.hidden = true; node.style.display = "none";',
    ):
        assert step in script
