"""Atom feeds: one entry per published stage, stable ids, honest `updated`, escaped user text."""

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app import crud, writes
from app.feeds import Names, entry_content, entry_title
from app.models import SourceCreate, Stage, StagePublic, TargetIn, TermsIn
from app.revisions import Correction
from app.routes.feeds import FEED_SIZE
from app.settings import Settings
from app.writes import FigureChange
from tests.factories import SOURCE, add_stage, correct_stage, make_exchange, stage_data
from tests.html import parse, text, texts

BASE = "https://swaptally.example"
ISTANBUL = "Istanbul 1,000 for 1,000"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A trailing slash, as people type it: links must not come out with "//".
    return Settings(
        environment="test", database_url=database_url, secret_key="test-secret", base_url=BASE + "/"
    )


def at(day: int, hour: int = 18) -> dt.datetime:
    return dt.datetime(2025, 5, day, hour, tzinfo=dt.UTC)


def set_updated(session: Session, stage_id: int, when: dt.datetime) -> None:
    stage = session.get(Stage, stage_id)
    assert stage is not None
    stage.updated_at = when
    session.add(stage)
    session.commit()


@pytest.fixture
def stage_ids(session: Session) -> dict[str, int]:
    """Three published Istanbul stages and a draft, and one Belarus stage, at fixed times."""
    istanbul = make_exchange(session)
    stages = {
        "day1": add_stage(session, istanbul, stage_data(a=(270, 120), date=dt.date(2025, 5, 23))),
        "day2": add_stage(
            session, istanbul, stage_data(a=(307, 0), date=dt.date(2025, 5, 24), status="reported")
        ),
        "day3": add_stage(
            session,
            istanbul,
            stage_data(a=(303, 0), date=dt.date(2025, 5, 25), notes="Day 3, Mariupol defenders"),
        ),
        "draft": add_stage(
            session,
            istanbul,
            stage_data(a=(1, 1), date=dt.date(2025, 5, 26), published=False, sources=[]),
        ),
    }
    belarus = make_exchange(
        session,
        slug="belarus-swap",
        title="Belarus swap",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )
    stages["belarus"] = add_stage(
        session,
        belarus,
        stage_data(
            a=(10, 0),
            b=(None, None),
            date=dt.date(2024, 1, 3),
            status="disputed",
            sources=[SOURCE | {"publisher": "TASS", "claim": "Russian MoD figure"}],
        ),
    )
    ids = {name: stage.id for name, stage in stages.items() if stage.id is not None}
    for hour, name in enumerate(["belarus", "day1", "day2", "day3", "draft"], start=10):
        set_updated(session, ids[name], at(25, hour))
    return ids


def fetch(client: TestClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo is False, parsed.get("bozo_exception")
    return parsed


def entry_id(stage_id: int) -> str:
    return f"tag:swaptally,2025:stage/{stage_id}"


@pytest.mark.postgresql
def test_site_feed_lists_published_stages_newest_first(
    client: TestClient, stage_ids: dict[str, int]
) -> None:
    parsed = fetch(client, "/feed.atom")
    ids = stage_ids
    assert [e.id for e in parsed.entries] == [
        entry_id(ids["day3"]), entry_id(ids["day2"]), entry_id(ids["day1"]),
        entry_id(ids["belarus"]),
    ]  # fmt: skip
    assert [e.title for e in parsed.entries] == [
        f"{ISTANBUL} — 25 May 2025: 303 returned to Ukraine, 303 returned to Russia",
        f"{ISTANBUL} — 24 May 2025: 307 returned to Ukraine, 307 returned to Russia",
        f"{ISTANBUL} — 23 May 2025: 390 returned to Ukraine, 390 returned to Russia",
        "Belarus swap — 3 January 2024: 10 returned to Ukraine, undisclosed returned to Belarus",
    ]
    assert [e.link for e in parsed.entries] == [
        f"{BASE}/exchanges/istanbul-1000-for-1000#stage-{ids['day3']}",
        f"{BASE}/exchanges/istanbul-1000-for-1000#stage-{ids['day2']}",
        f"{BASE}/exchanges/istanbul-1000-for-1000#stage-{ids['day1']}",
        f"{BASE}/exchanges/belarus-swap#stage-{ids['belarus']}",
    ]
    assert [e.updated for e in parsed.entries] == [
        "2025-05-25T13:00:00+00:00",
        "2025-05-25T12:00:00+00:00",
        "2025-05-25T11:00:00+00:00",
        "2025-05-25T10:00:00+00:00",
    ]
    # The draft was touched last, but drafts are not published, so they do not date the feed.
    assert parsed.feed.updated == "2025-05-25T13:00:00+00:00"
    assert (parsed.feed.id, parsed.feed.title) == (
        "tag:swaptally,2025:feed",
        "Swap Tally: every exchange, stage by stage",
    )
    assert [(link.rel, link.type, link.href) for link in parsed.feed.links] == [
        ("self", "application/atom+xml", f"{BASE}/feed.atom"),
        ("alternate", "text/html", f"{BASE}/"),
    ]
    assert parsed.feed.author == "Swap Tally"


@pytest.mark.usefixtures("stage_ids")
def test_entry_content_has_status_figures_notes_and_sources(client: TestClient) -> None:
    [day3] = [e for e in fetch(client, "/feed.atom").entries if "25 May 2025" in e.title]
    assert [(c.type, c.value) for c in day3.content] == [
        (
            "text/html",
            "<p>Status: reported</p>"
            "<ul><li>Ukraine: 303 returned · military 303 · civilians 0</li>"
            "<li>Russia: 303 returned · military 303 · civilians 0</li></ul>"
            "<p>Day 3, Mariupol defenders</p>"
            "<p>Sources:</p><ul><li>Example Wire: Both sides confirmed."
            ' (<a href="https://example.org/report">https://example.org/report</a>)</li></ul>',
        )
    ]


def test_editing_a_stage_moves_its_entry_and_the_feed(
    client: TestClient, session: Session, stage_ids: dict[str, int]
) -> None:
    # The oldest stage: the feed's `updated` follows the latest change, not the latest date.
    set_updated(session, stage_ids["belarus"], dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC))
    parsed = fetch(client, "/feed.atom")
    assert parsed.entries[-1].id == entry_id(stage_ids["belarus"])
    assert parsed.entries[-1].updated == "2025-07-01T09:30:00+00:00"
    assert parsed.feed.updated == "2025-07-01T09:30:00+00:00"
    assert fetch(client, "/exchanges/belarus-swap/feed.atom").feed.updated == (
        "2025-07-01T09:30:00+00:00"
    )
    assert fetch(client, "/exchanges/istanbul-1000-for-1000/feed.atom").feed.updated == (
        "2025-05-25T13:00:00+00:00"
    )


@pytest.mark.postgresql
@pytest.mark.usefixtures("stage_ids")
def test_same_data_gives_the_same_bytes(client: TestClient) -> None:
    assert client.get("/feed.atom").content == client.get("/feed.atom").content


def test_exchange_feed_has_only_its_stages(client: TestClient, stage_ids: dict[str, int]) -> None:
    parsed = fetch(client, "/exchanges/istanbul-1000-for-1000/feed.atom")
    assert [e.id for e in parsed.entries] == [
        entry_id(stage_ids["day3"]), entry_id(stage_ids["day2"]), entry_id(stage_ids["day1"]),
    ]  # fmt: skip
    assert (parsed.feed.id, parsed.feed.title, parsed.feed.updated) == (
        "tag:swaptally,2025:exchange/istanbul-1000-for-1000",
        f"{ISTANBUL}: Swap Tally",
        "2025-05-25T13:00:00+00:00",
    )
    assert [(link.rel, link.href) for link in parsed.feed.links] == [
        ("self", f"{BASE}/exchanges/istanbul-1000-for-1000/feed.atom"),
        ("alternate", f"{BASE}/exchanges/istanbul-1000-for-1000"),
    ]
    belarus = fetch(client, "/exchanges/belarus-swap/feed.atom")
    assert [e.id for e in belarus.entries] == [entry_id(stage_ids["belarus"])]


@pytest.mark.parametrize("path", ["/feed.atom", "/exchanges/istanbul-1000-for-1000/feed.atom"])
def test_feed_without_stages_has_a_fixed_updated(
    client: TestClient, session: Session, path: str
) -> None:
    make_exchange(session)
    parsed = fetch(client, path)
    assert (parsed.entries, parsed.feed.updated) == ([], "1970-01-01T00:00:00+00:00")


def test_unknown_or_unpublished_exchange_is_404(client: TestClient, session: Session) -> None:
    make_exchange(session, slug="hidden", published=False)
    for slug in ("nope", "hidden"):
        response = client.get(f"/exchanges/{slug}/feed.atom")
        assert response.status_code == 404
        assert response.json() == {"detail": f"No exchange with slug {slug!r}"}


def test_site_feed_keeps_the_latest_stages(client: TestClient, session: Session) -> None:
    first = dt.date(2025, 1, 1)
    exchange = make_exchange(session)
    for day in range(FEED_SIZE + 2):
        add_stage(session, exchange, stage_data(date=first + dt.timedelta(days=day)))
    titles = [e.title for e in fetch(client, "/feed.atom").entries]
    assert len(titles) == FEED_SIZE
    assert titles[0].startswith(f"{ISTANBUL} — 21 February 2025:")
    assert titles[-1].startswith(f"{ISTANBUL} — 3 January 2025:")


def test_user_text_is_escaped(client: TestClient, session: Session) -> None:
    make_exchange(
        session,
        stage_data(
            notes="<script>alert(1)</script> & more\nsecond line",
            sources=[SOURCE | {"publisher": "<b>Wire</b>", "claim": '"quoted" <img src=x>'}],
        ),
        title="A <i>swap</i> & more",
    )
    # A control character the write schemas now refuse, as a row stored before them may hold.
    session.execute(update(Stage).values(notes=Stage.notes + "\x07"))
    session.commit()
    response = client.get("/feed.atom")
    assert b"<script" not in response.content
    assert b"<img" not in response.content
    entry = ET.fromstring(response.content).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == (
        "A <i>swap</i> & more — 23 May 2025: 390 returned to Ukraine, 390 returned to Russia"
    )
    content = entry.findtext(f"{ATOM}content")
    assert content is not None
    # One more unescaping by a reader's HTML renderer leaves the user's text as text.
    assert content.split("</ul>")[1:] == [
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more<br>second line</p><p>Sources:</p>"
        "<ul><li>&lt;b&gt;Wire&lt;/b&gt;: &quot;quoted&quot; &lt;img src=x&gt;"
        ' (<a href="https://example.org/report">https://example.org/report</a>)</li>',
        "",
    ]
    assert fetch(client, "/feed.atom").entries[0].title == entry.findtext(f"{ATOM}title")


def one_side_stage(
    people: int | None,
    remains: int | None,
    military: int | None = None,
    civilian: int | None = None,
) -> StagePublic:
    side = {
        "key": "a", "military": military, "civilian": civilian, "people": people, "remains": remains
    }  # fmt: skip
    return StagePublic.model_validate(
        {
            "id": 1, "exchange": "x", "date": dt.date(2025, 6, 11), "status": "confirmed",
            "published": True, "version": 1, "notes": "", "sources": [], "updated_at": at(25),
            "sides": [side],
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("people", "remains", "figures"),
    [
        (390, None, "390 returned to Ukraine"),
        (390, 0, "390 returned to Ukraine"),
        (0, None, "0 returned to Ukraine"),
        (None, None, "undisclosed returned to Ukraine"),
        (0, 1212, "1,212 bodies returned to Ukraine"),
        (75, 212, "75 people and 212 bodies returned to Ukraine"),
        (None, 5, "undisclosed people and 5 bodies returned to Ukraine"),
    ],
)
def test_entry_title_names_people_and_bodies(
    people: int | None, remains: int | None, figures: str
) -> None:
    names = Names(exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"})
    assert entry_title(one_side_stage(people, remains), names) == f"Swap — 11 June 2025: {figures}"


def test_entry_content_of_bodies_without_notes_or_sources() -> None:
    names = Names(exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"})
    assert entry_content(one_side_stage(0, 1212), names) == (
        "<p>Status: confirmed</p><ul><li>Ukraine: 0 returned · military undisclosed"
        " · civilians undisclosed · remains repatriated 1,212</li></ul>"
    )


@pytest.mark.parametrize(
    ("military", "civilian", "people", "figures"),
    [
        (270, None, None, "at least 270 returned to Ukraine"),
        (None, 12, None, "at least 12 returned to Ukraine"),
        (0, None, None, "undisclosed returned to Ukraine"),  # never "at least 0"
        (None, None, 215, "215 returned to Ukraine"),  # a reported total is exact
        (270, 120, 390, "390 returned to Ukraine"),
    ],
)
def test_entry_title_says_at_least_when_a_part_is_unknown(
    military: int | None, civilian: int | None, people: int | None, figures: str
) -> None:
    names = Names(exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"})
    stage = one_side_stage(people, None, military=military, civilian=civilian)
    assert entry_title(stage, names) == f"Swap — 11 June 2025: {figures}"


def test_entry_content_says_at_least_when_a_part_is_unknown() -> None:
    names = Names(exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"})
    assert entry_content(one_side_stage(None, 3, military=270), names) == (
        "<p>Status: confirmed</p><ul><li>Ukraine: at least 270 returned · military 270"
        " · civilians undisclosed · remains repatriated 3</li></ul>"
    )
    title = entry_title(one_side_stage(None, 3, military=270), names)
    assert title == "Swap — 11 June 2025: at least 270 people and 3 bodies returned to Ukraine"


CORRECTED_AT = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)


def test_a_corrected_stage_says_what_changed_and_moves_to_the_correction_time(
    client: TestClient, session: Session, stage_ids: dict[str, int]
) -> None:
    day1 = stage_ids["day1"]
    correct_stage(
        session, day1, stage_data(a=(270, 120), b=(215, 46), date=dt.date(2025, 5, 23)),
        reason="15 wounded were returned too <b>", at=CORRECTED_AT,
    )  # fmt: skip
    set_updated(session, day1, at(25, 14))  # a stage row older than its correction, as seeded
    for path in ("/feed.atom", "/exchanges/istanbul-1000-for-1000/feed.atom"):
        parsed = fetch(client, path)
        [entry] = [e for e in parsed.entries if e.id == entry_id(day1)]
        assert entry.title == (
            f"{ISTANBUL} — 23 May 2025: 390 returned to Ukraine, 261 returned to Russia"
        )
        assert entry.content[0].value.split("</ul>")[1] == (
            "<p>Corrected on 2 December 2026: Russia received 261, not 390."
            " 15 wounded were returned too &lt;b&gt;</p><p>Sources:</p><ul><li>Example Wire:"
            ' Both sides confirmed. (<a href="https://example.org/report">'
            "https://example.org/report</a>)</li>"
        )
        assert (entry.updated, parsed.feed.updated) == ("2026-12-02T09:30:00+00:00",) * 2


@pytest.mark.parametrize(
    ("changes", "note"),
    [
        (
            [FigureChange("russia", "people", None, 261, 0, 0)],
            "Corrected on 2 December 2026: Russia received 261 (previously undisclosed). MoD",
        ),
        (
            [FigureChange("russia", "people", 261, None, 0, 0)],
            "Corrected on 2 December 2026: Russia received an undisclosed number, not 261. MoD",
        ),
        (
            [FigureChange("ukraine", "remains", 900, 1212, 0, 0)],
            "Corrected on 2 December 2026: Ukraine received 1,212 bodies, not 900. MoD",
        ),
        (
            [FigureChange("ukraine", "remains", 2, 1, 0, 0)],
            "Corrected on 2 December 2026: Ukraine received 1 body, not 2. MoD",
        ),
        (
            [FigureChange("russia", "people", 261, 246, 0, 15)],
            "Corrected on 2 December 2026: Russia received 246, not 261."
            " Outside the exchange, Russia also received 15. MoD",
        ),
        (
            [FigureChange("russia", "people", 246, 246, 15, 1015)],
            "Corrected on 2 December 2026: Outside the exchange, Russia received 1,015, not 15."
            " MoD",
        ),
        (
            [FigureChange("russia", "people", 246, 246, None, 15)],
            "Corrected on 2 December 2026: Outside the exchange, Russia received 15"
            " (previously undisclosed). MoD",
        ),
    ],
)
def test_entry_content_says_each_correction_in_words(
    changes: list[FigureChange], note: str
) -> None:
    corrections = {1: [Correction(7, CORRECTED_AT, "MoD", changes)]}
    names = Names(
        exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"},
        parties={"ukraine": "Ukraine", "russia": "Russia"}, corrections=corrections,
    )  # fmt: skip
    content = entry_content(one_side_stage(0, 1212), names)
    assert content.split("</ul>")[1] == f"<p>{note}</p>"


def test_several_corrections_read_oldest_first() -> None:
    later = CORRECTED_AT + dt.timedelta(days=1)
    corrections = {
        1: [
            Correction(7, CORRECTED_AT, "first", []),
            Correction(8, later, None, [FigureChange("ukraine", "people", 1, 2, 0, 0)]),
            Correction(9, later, None, []),
        ]
    }
    names = Names(
        exchanges={"x": "Swap"}, sides={("x", "a"): "Ukraine"}, parties={"ukraine": "Ukraine"},
        corrections=corrections,
    )  # fmt: skip
    assert entry_content(one_side_stage(2, None), names).split("</ul>")[1] == (
        "<p>Corrected on 2 December 2026: first</p>"
        "<p>Corrected on 3 December 2026: Ukraine received 2, not 1.</p>"
        "<p>Corrected on 3 December 2026: figures updated</p>"
    )


def test_a_correction_is_an_entry_of_its_own(
    client: TestClient, session: Session, stage_ids: dict[str, int]
) -> None:
    """A reader who read the stage when it came out learns that its figures changed."""
    day1 = stage_ids["day1"]
    correct_stage(
        session, day1, stage_data(a=(270, 120), b=(215, 46), date=dt.date(2025, 5, 23)),
        reason="15 wounded were returned too", at=CORRECTED_AT,
    )  # fmt: skip
    revision = writes.stage_revision(session, day1)
    assert revision is not None
    for path in ("/feed.atom", "/exchanges/istanbul-1000-for-1000/feed.atom"):
        parsed = fetch(client, path)
        first = parsed.entries[0]  # recorded today: the latest thing that happened
        assert first.id == f"tag:swaptally,2025:correction/{revision.id}"
        assert first.title == (
            f"Correction: {ISTANBUL} — 23 May 2025: Russia received 261, not 390."
        )
        assert first.link == f"{BASE}/exchanges/istanbul-1000-for-1000#stage-{day1}"
        assert first.updated == "2026-12-02T09:30:00+00:00"
        assert first.content[0].value == (
            "<p>Corrected on 2 December 2026: Russia received 261, not 390."
            " 15 wounded were returned too</p>"
        )
    assert not any(
        "correction" in e.id for e in fetch(client, "/exchanges/belarus-swap/feed.atom").entries
    )


@pytest.mark.usefixtures("stage_ids")
def test_a_change_to_the_deal_is_an_entry(client: TestClient, session: Session) -> None:
    exchange = crud.get_exchange_row(session, slug="istanbul-1000-for-1000")
    assert exchange is not None
    terms = writes.add_terms(
        session,
        exchange=exchange,
        data=TermsIn(
            effective=dt.date(2025, 5, 26),
            kind="amendment",
            note="Extended: 200 more <each> way.",
            targets=[
                TargetIn(received_by="ukraine", people=1200),
                TargetIn(received_by="russia", people=1200),
            ],
            sources=[SourceCreate(**SOURCE)],
        ),
        actor="editor@example.org",
    )
    session.commit()
    for path in ("/feed.atom", "/exchanges/istanbul-1000-for-1000/feed.atom"):
        [entry] = [e for e in fetch(client, path).entries if "terms" in e.id]
        assert entry.id == f"tag:swaptally,2025:terms/{terms.id}"
        assert entry.title == (
            f"{ISTANBUL} — the deal changed on 26 May 2025:"
            " Ukraine to receive 1,200. Russia to receive 1,200."
        )
        assert entry.link == f"{BASE}/exchanges/istanbul-1000-for-1000#agreement-heading"
        assert entry.content[0].value.startswith(
            "<p>Extended: 200 more &lt;each&gt; way.</p>"
            "<p>Ukraine to receive 1,200. Russia to receive 1,200.</p><p>Sources:</p>"
        )
    assert not any(
        "terms" in e.id for e in fetch(client, "/exchanges/belarus-swap/feed.atom").entries
    )


@pytest.mark.usefixtures("stage_ids")
def test_a_feed_opened_in_a_browser_reads_as_a_page(client: TestClient) -> None:
    """The Atom is for feed readers; a journalist who clicks "Feed" gets a page saying what it
    is, the address to copy into a reader, and the same entries in the same order."""
    cases = [
        ("/feed", "/feed.atom", "Swap Tally: every exchange, stage by stage", "/timeline"),
        (
            "/exchanges/istanbul-1000-for-1000/feed",
            "/exchanges/istanbul-1000-for-1000/feed.atom",
            f"Follow {ISTANBUL}",
            "/exchanges/istanbul-1000-for-1000",
        ),
    ]
    for path, atom, title, back in cases:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = parse(response.text)
        assert text(page.select_one("h1")) == title
        assert page.select_one("#feed-url")["value"] == f"{BASE}{atom}"  # type: ignore[index]
        assert page.select_one(f'link[rel="alternate"][href="{atom}"]') is not None
        assert [a["href"] for a in page.select("main p a")] == [atom, back]
        entries = fetch(client, atom).entries
        assert texts(page, ".feed-entry h3") == [entry.title for entry in entries]
        assert [a["href"] for a in page.select(".feed-entry h3 a")] == [
            entry.link.removeprefix(BASE) for entry in entries
        ]
        assert all(li["lang"] == "en" for li in page.select(".feed-entry"))
    ukrainian = parse(client.get("/feed?lang=uk").text)
    assert text(ukrainian.select_one("h1")) != "Swap Tally: every exchange, stage by stage"
    assert ukrainian.select_one(".note") is not None  # says the entries are in English
    assert client.get("/exchanges/no-such-swap/feed").status_code == 404
