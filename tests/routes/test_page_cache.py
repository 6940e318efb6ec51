"""Readers' pages cached for anonymous readers (app/caching.py CachedPageRoute): one render per
data revision per address, language, htmx headers and day; ETags and 304s; and nothing kept or
shared for a signed-in editor, an error, or a page that sets the language cookie."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import deps
from app.caching import HttpCache
from tests.editing import make_user, sign_in
from tests.factories import add_stage, make_exchange, stage_data
from tests.html import parse, texts

EXCHANGE = "/exchanges/istanbul-1000-for-1000"
PAGES = ["/", EXCHANGE, "/timeline", "/timeline?status=reported"]
PUBLIC = "public, max-age=60, stale-while-revalidate=600"
VARY = "HX-Request, HX-History-Restore-Request, Accept-Language, Cookie"
HTMX = {"HX-Request": "true"}


def app_session(client: TestClient) -> Session:
    """A session on the app's own engine: writing through it is writing in the app's process."""
    return Session(client.app.state.engine)  # type: ignore[attr-defined]


def renders(client: TestClient) -> int:
    cache: HttpCache = client.app.state.http_cache  # type: ignore[attr-defined]
    assert len(cache.renders) == 0  # pages are kept apart from widgets and the API
    return len(cache.pages)


def language(response: object) -> str:
    page = parse(response.text)  # type: ignore[attr-defined]
    return str(page.html["lang"])  # type: ignore[index]


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_page_has_an_etag_and_answers_304(
    client: TestClient, session: Session, path: str
) -> None:
    make_exchange(session, stage_data())
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == PUBLIC
    assert first.headers["vary"] == VARY
    assert "set-cookie" not in first.headers
    etag = first.headers["etag"]
    assert (etag[0], etag[-1], len(etag)) == ('"', '"', 34)
    again = client.get(path, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert (again.headers["etag"], again.headers["vary"]) == (etag, VARY)
    assert client.get(path).content == first.content
    assert renders(client) == 1


@pytest.mark.postgresql
def test_an_edit_changes_the_page_and_its_etag(client: TestClient) -> None:
    session = app_session(client)
    exchange = make_exchange(session, stage_data())
    before = client.get(EXCHANGE)
    assert (
        texts(parse(before.text), ".tally .figure")[0]
        == "390 of 1,000 returned to Ukraine (39.0 %)"
    )
    add_stage(session, exchange, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    after = client.get(EXCHANGE, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert (
        texts(parse(after.text), ".tally .figure")[0] == "697 of 1,000 returned to Ukraine (69.7 %)"
    )


def test_each_language_is_rendered_and_tagged_apart(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    english = client.get(EXCHANGE)
    by_header = client.get(EXCHANGE, headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    client.cookies.set("lang", "uk")
    by_cookie = client.get(EXCHANGE)
    client.cookies.clear()
    english_again = client.get(EXCHANGE, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert [language(r) for r in (english, by_header, by_cookie, english_again)] == [
        "en",
        "uk",
        "uk",
        "en",
    ]
    assert by_header.content == by_cookie.content != english.content == english_again.content
    assert by_header.headers["etag"] != english.headers["etag"]
    assert by_header.headers["cache-control"] == by_cookie.headers["cache-control"] == PUBLIC
    # The English ETag is no good for a Ukrainian reader.
    ukrainian = client.get(
        EXCHANGE, headers={"If-None-Match": english.headers["etag"]} | {"Accept-Language": "uk"}
    )
    assert (ukrainian.status_code, language(ukrainian)) == (200, "uk")
    assert renders(client) == 2


def test_a_page_that_sets_the_language_cookie_is_this_browsers_only(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    chosen = client.get(f"{EXCHANGE}?lang=uk")
    assert (chosen.status_code, language(chosen)) == (200, "uk")
    assert chosen.headers["set-cookie"] == "lang=uk; Max-Age=31536000; Path=/; SameSite=lax"
    assert chosen.headers["cache-control"] == "private, no-cache"
    # Rendered once: a second browser choosing Ukrainian is answered from the cache, and still
    # gets its cookie; the first, which holds the cookie now, gets a page it may share.
    client.cookies.clear()
    client.cookies.set("lang", "en")
    other = client.get(f"{EXCHANGE}?lang=uk")
    assert (other.content, other.headers["set-cookie"]) == (
        chosen.content,
        chosen.headers["set-cookie"],
    )
    client.cookies.clear()
    client.cookies.set("lang", "uk")
    remembered = client.get(f"{EXCHANGE}?lang=uk")
    assert (remembered.content, remembered.headers["cache-control"]) == (chosen.content, PUBLIC)
    assert "set-cookie" not in remembered.headers
    revalidated = client.get(
        f"{EXCHANGE}?lang=uk", headers={"If-None-Match": chosen.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert renders(client) == 1


def test_htmx_partials_and_pages_are_kept_apart(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    path = "/timeline?status=reported"
    fragment = client.get(path, headers=HTMX)
    page = client.get(path)
    restore = client.get(path, headers=HTMX | {"HX-History-Restore-Request": "true"})
    fragment_again = client.get(path, headers=HTMX)
    assert "<html" not in fragment.text
    assert fragment_again.content == fragment.content
    assert fragment.headers["hx-push-url"] == path
    for whole in (page, restore):
        assert parse(whole.text).select_one("form.filters") is not None
    assert "hx-push-url" not in page.headers
    assert fragment.headers["etag"] != page.headers["etag"] == restore.headers["etag"]
    assert renders(client) == 3


def test_a_signed_in_editor_s_page_is_neither_kept_nor_taken_from_the_cache(
    client: TestClient, session: Session
) -> None:
    make_exchange(session, stage_data())
    anonymous = client.get(EXCHANGE)
    assert anonymous.headers["cache-control"] == PUBLIC
    make_user(session, "ed@example.org")
    assert sign_in(client, "ed@example.org").status_code == 303
    for path in PAGES:
        editor = client.get(path)
        assert editor.status_code == 200, path
        assert editor.headers["cache-control"] == "private, no-store", path
        assert "etag" not in editor.headers, path  # every cached answer has one
        assert (
            client.get(path, headers={"If-None-Match": anonymous.headers["etag"]}).status_code
            == 200
        )
    assert renders(client) == 1  # the anonymous reader's page alone


def test_errors_and_redirects_are_not_stored(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data())
    answers = [
        client.get("/exchanges/no-such-swap"),
        client.get("/exchanges/no-such-swap?lang=uk"),
        client.get("/timeline?status=nonsense"),
        client.get("/timeline?status=&q=tass", follow_redirects=False),
    ]
    assert [answer.status_code for answer in answers] == [404, 404, 400, 303]
    for answer in answers:
        assert answer.headers["cache-control"] == "private, no-store"
        assert "etag" not in answer.headers
    assert renders(client) == 0


def test_the_day_is_part_of_the_key(client: TestClient, session: Session) -> None:
    """The citation says when the page was read: a new day renders the page again."""
    make_exchange(session, stage_data())
    app = client.app
    app.dependency_overrides[deps.today] = lambda: dt.date(2027, 1, 1)  # type: ignore[attr-defined]
    first = client.get(EXCHANGE)
    app.dependency_overrides[deps.today] = lambda: dt.date(2027, 1, 2)  # type: ignore[attr-defined]
    second = client.get(EXCHANGE, headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert "1 January 2027" in first.text
    assert "2 January 2027" in second.text
    assert "1 January 2027" not in second.text
