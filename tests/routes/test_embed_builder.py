"""The embed builder on exchange pages, its social cards and oEmbed discovery; no inline scripts."""

from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.embedded_exchanges import YEMEN, yemen
from tests.factories import make_exchange, name_parties_in_ukrainian, stage_data
from tests.html import parse, text

BASE = "http://127.0.0.1:8000"
SLUG = "istanbul-1000-for-1000"
PAGE = f"/exchanges/{SLUG}"


@pytest.fixture(autouse=True)
def exchange(session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))


def page(client: TestClient, query: str = "", **headers: str) -> BeautifulSoup:
    return page_of(client, SLUG, query, **headers)


def page_of(client: TestClient, slug: str, query: str = "", **headers: str) -> BeautifulSoup:
    response = client.get(f"/exchanges/{slug}" + (f"?{query}" if query else ""), headers=headers)
    assert response.status_code == 200
    return parse(response.text)


def code(page: BeautifulSoup, key: str) -> str:
    area = page.select_one(f"#embed-code-{key}")
    assert area is not None
    assert area.has_attr("readonly")
    return area.get_text()


def selected(page: BeautifulSoup) -> dict[str, str]:
    found = {}
    for select in page.select("#embed select"):
        option = select.select_one("option[selected]")
        assert option is not None
        found[str(select["name"])] = str(option["value"])
    return found


def test_default_codes(client: TestClient) -> None:
    builder = page(client)
    form = builder.select_one("#embed form")
    assert form is not None
    assert (form["method"], form["action"]) == ("get", f"{PAGE}#embed")
    assert selected(builder) == {
        "embed_view": "bar",
        "embed_side": "both",
        "embed_theme": "auto",
        "embed_lang": "en",
    }
    script = parse(code(builder, "script"))
    quote = script.select_one("blockquote[data-swaptally]")
    assert quote is not None
    assert text(quote).startswith("Istanbul 1,000 for 1,000: 390 of 1,000 returned to Ukraine")
    frame = script.select_one("blockquote + iframe")
    assert frame is not None
    assert (frame["src"], frame["height"], frame["loading"]) == (
        f"{BASE}/embed/{SLUG}",
        "327",  # the whole widget at 300 px (app/embed_fit.py)
        "lazy",
    )
    tag = script.select_one("iframe + script")
    assert tag is not None
    assert (tag["src"], tag.has_attr("async")) == (f"{BASE}/embed.js", True)
    iframe_only = parse(code(builder, "iframe"))
    assert [element.name for element in iframe_only.find_all(True)] == ["iframe"]
    image = parse(code(builder, "image")).select_one("a > img")
    assert image is not None
    assert image["src"] == f"{BASE}/embed/{SLUG}.png"
    assert code(builder, "oembed") == (
        f"{BASE}/oembed?url=http%3A%2F%2F127.0.0.1%3A8000%2Fembed%2F{SLUG}&format=json"
    )
    preview = builder.select_one("#embed-output iframe.embed-preview")
    assert preview is not None
    assert preview["src"] == f"/embed/{SLUG}"
    assert [button["data-copy"] for button in builder.select("#embed button.copy[hidden]")] == [
        "embed-code-script",
        "embed-code-iframe",
        "embed-code-image",
        "embed-code-oembed",
    ]


def test_chosen_options_make_the_codes(client: TestClient) -> None:
    query = "embed_view=chart&embed_side=b&embed_theme=dark&embed_lang=uk&embed_as_of=2025-05-23"
    builder = page(client, query + "&embed_transparent=1")
    assert selected(builder) == {
        "embed_view": "chart",
        "embed_side": "b",
        "embed_theme": "dark",
        "embed_lang": "uk",
    }
    as_of = builder.select_one("#embed-as_of")
    assert as_of is not None
    assert as_of["value"] == "2025-05-23"
    options = "view=chart&side=b&theme=dark&lang=uk&transparent=1&as_of=2025-05-23"
    frame = parse(code(builder, "iframe")).select_one("iframe")
    assert frame is not None
    assert frame["src"] == f"{BASE}/embed/{SLUG}?{options}"
    assert "color-scheme:dark" in str(frame["style"])
    assert str(frame["title"]).startswith("Istanbul 1,000 for 1,000: Russia: повернуто 390 з")
    preview = builder.select_one("iframe.embed-preview")
    assert preview is not None
    assert preview["src"] == f"/embed/{SLUG}?{options}"
    assert client.get(str(preview["src"])).status_code == 200


def test_the_widget_language_follows_the_page(client: TestClient) -> None:
    assert selected(page(client, "lang=uk"))["embed_lang"] == "uk"
    assert selected(page(client, "lang=uk&embed_lang=en"))["embed_lang"] == "en"


def test_a_ukrainian_page_names_the_parties_to_choose_in_ukrainian(
    client: TestClient, session: Session
) -> None:
    name_parties_in_ukrainian(session, ukraine="Україна", russia="Росія")
    options = [text(option) for option in page(client, "lang=uk").select("#embed-side option")]
    assert options[1:] == ["Україна", "Росія"]
    english = [text(option) for option in page(client, "lang=en").select("#embed-side option")]
    assert english[1:] == ["Ukraine", "Russia"]


def test_bad_choices_are_named_beside_their_field(client: TestClient) -> None:
    builder = page(client, "embed_view=pie&embed_as_of=someday&embed_theme=dark")
    assert text(builder.select_one("#embed-error-view")) == "Choose one of: bar, compact, chart."
    assert text(builder.select_one("#embed-error-as_of")) == "Use a date as YYYY-MM-DD."
    view = builder.select_one("#embed-view")
    assert view is not None
    assert view["aria-invalid"] == "true"
    assert selected(builder)["embed_view"] == "bar"  # the default, the other choices kept
    assert selected(builder)["embed_theme"] == "dark"


def test_htmx_gets_the_page_and_picks_the_output(client: TestClient) -> None:
    form = page(client).select_one("#embed form")
    assert form is not None
    assert (form["hx-get"], form["hx-select"], form["hx-target"]) == (
        PAGE,
        "#embed-output",
        "#embed-output",
    )
    fragment = page(client, "embed_view=compact", **{"HX-Request": "true"})
    preview = fragment.select_one("#embed-output iframe.embed-preview")
    assert preview is not None
    assert preview["src"] == f"/embed/{SLUG}?view=compact"


def test_social_cards_and_oembed_discovery(client: TestClient) -> None:
    head = page(client).head
    assert head is not None

    def meta(selector: str) -> str:
        found = head.select_one(selector)
        assert found is not None
        return str(found["content"])

    assert meta('meta[property="og:image"]') == f"{BASE}/embed/{SLUG}.png?og=1"
    assert (meta('meta[property="og:image:width"]'), meta('meta[property="og:image:height"]')) == (
        "1200",
        "630",
    )
    assert meta('meta[name="twitter:card"]') == "summary_large_image"
    assert meta('meta[name="twitter:image"]') == f"{BASE}/embed/{SLUG}.png?og=1"
    link = head.select_one('link[rel="alternate"][type="application/json+oembed"]')
    assert link is not None
    href = urlsplit(str(link["href"]))
    assert f"{href.scheme}://{href.netloc}" == BASE
    answer = client.get(f"{href.path}?{href.query}")
    assert answer.status_code == 200
    assert answer.json()["title"] == "Istanbul 1,000 for 1,000"


def test_page_scripts_are_same_origin_files(client: TestClient) -> None:
    """A strict CSP forbids inline scripts and handlers on normal pages."""
    builder = page(client)
    sources = [script.get("src") for script in builder.select("script")]
    assert all(str(src).startswith("/static/") for src in sources), sources
    assert "/static/js/builder.js" in sources
    handlers = [
        (element.name, name)
        for element in builder.find_all(True)
        for name in element.attrs
        if name.startswith("on")
    ]
    assert handlers == []
    for src in sources:
        assert client.get(str(src)).status_code == 200


def test_each_copy_button_is_named_after_its_code(client: TestClient) -> None:
    """Screen-reader users hear "Copy Embed code", "Copy Image"..., not four bare "Copy"s."""
    shown = page(client)
    names = []
    for button in shown.select("#embed button.copy"):
        parts = [shown.select_one(f"#{ref}") for ref in str(button["aria-labelledby"]).split()]
        names.append(" ".join(text(part) for part in parts))
    assert names == ["Copy Embed code", "Copy Iframe only", "Copy Image", "Copy oEmbed address"]


def test_two_parties_need_no_party_boxes(client: TestClient) -> None:
    assert page(client).select("#embed-party") == []


def party_boxes(builder: BeautifulSoup) -> list[tuple[str, bool]]:
    boxes = builder.select("#embed-party input[type=checkbox][name=embed_party]")
    return [(str(box["value"]), box.has_attr("checked")) for box in boxes]


def test_past_two_parties_any_of_them_can_be_chosen(client: TestClient, session: Session) -> None:
    yemen(session)
    builder = page_of(client, YEMEN)
    assert party_boxes(builder) == [
        ("houthis", False),
        ("saudi-arabia", False),
        ("yemen-government", False),
    ]
    assert [text(label) for label in builder.select("#embed-party label")] == [
        "the Houthis",
        "Saudi Arabia",
        "Yemeni government",
    ]
    assert [text(option) for option in builder.select("#embed-side option")] == [
        "All parties",
        "the Houthis",
        "Saudi Arabia",
    ]
    preview = builder.select_one("iframe.embed-preview")
    assert preview is not None
    assert preview["height"] == "340"  # three parties' first height
    assert parse(code(builder, "iframe")).select_one("iframe")["height"] == "499"  # type: ignore[index]

    ticked = page_of(client, YEMEN, "embed_party=yemen-government&embed_party=houthis")
    assert party_boxes(ticked) == [
        ("houthis", True),
        ("saudi-arabia", False),
        ("yemen-government", True),
    ]
    frame = parse(code(ticked, "iframe")).select_one("iframe")
    assert frame is not None
    assert (frame["src"], frame["height"]) == (
        f"{BASE}/embed/{YEMEN}?party=yemen-government,houthis",
        "363",
    )
    quote = parse(code(ticked, "script")).select_one("blockquote")
    assert text(quote).startswith(
        "Yemen 887 detainees: at least 50 of 166 returned to Yemeni government (30.1 %); "
        "about 318 of 706 returned to the Houthis (45.0 %); "
    )
    image = parse(code(ticked, "image")).select_one("img")
    assert image is not None
    assert image["src"] == f"{BASE}/embed/{YEMEN}.png?party=yemen-government,houthis"
    preview = ticked.select_one("iframe.embed-preview")
    assert preview is not None
    assert preview["src"] == f"/embed/{YEMEN}?party=yemen-government,houthis"
    assert client.get(str(preview["src"])).status_code == 200


@pytest.mark.parametrize(
    ("query", "message", "src"),
    [
        ("embed_party=houthis&embed_side=a", "Give party or side, not both.", "?side=a"),
        (
            "embed_party=nobody&embed_view=compact",
            "nobody is not a party of this exchange; choose from: houthis, saudi-arabia, "
            "yemen-government.",
            "?view=compact",
        ),
        ("embed_party=houthis,houthis", "Name each party once.", ""),
    ],
)
def test_a_bad_party_choice_is_named_beside_the_parties(
    client: TestClient, session: Session, query: str, message: str, src: str
) -> None:
    yemen(session)
    builder = page_of(client, YEMEN, query)
    assert text(builder.select_one("#embed-error-party")) == message
    group = builder.select_one("#embed-party")
    assert group is not None
    assert group["aria-describedby"] == "embed-party-hint embed-error-party"
    frame = parse(code(builder, "iframe")).select_one("iframe")
    assert frame is not None
    assert frame["src"] == f"{BASE}/embed/{YEMEN}{src}"


def test_a_party_chosen_on_a_two_party_exchange_can_be_unticked(client: TestClient) -> None:
    builder = page(client, "embed_party=russia")
    assert party_boxes(builder) == [("ukraine", False), ("russia", True)]
    frame = parse(code(builder, "iframe")).select_one("iframe")
    assert frame is not None
    assert frame["src"] == f"{BASE}/embed/{SLUG}?party=russia"
