"""Sign-in limits hold against simultaneous attempts: 30 wrong passwords for one account from
one client, sent at once to a real `swaptally serve` (one worker, and two on PostgreSQL), get
at most the limit checked; the rest are refused unchecked."""

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import httpx2
import pytest
from sqlmodel import Session

from app.accounts import MAX_ATTEMPTS_PER_ACCOUNT
from app.db import make_engine
from app.migrate import upgrade
from tests.editing import PASSWORD, make_user
from tests.html import parse
from tests.served import Served, running_app

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

EMAIL = "ed@example.org"
SIMULTANEOUS = 30


@contextmanager
def database(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    """A migrated database holding one editor."""
    if request.param[0] == "sqlite":
        databases: AbstractContextManager[str] = nullcontext(f"sqlite:///{folder / 'st.db'}")
    else:
        databases = request.getfixturevalue("postgres_server").new_database("races")
    with databases as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            make_user(session, EMAIL)
        engine.dispose()
        yield url


@pytest.fixture(params=[("sqlite", 1), ("postgresql", 1), ("postgresql", 2)], ids=str)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with (
        database(request, tmp_path) as url,
        running_app(url, tmp_path, workers=request.param[1]) as app,
    ):
        yield app


def test_simultaneous_sign_ins_get_at_most_the_limit_checked(served: Served) -> None:
    with httpx2.Client(base_url=served.base) as browser:
        field = parse(browser.get("/login").text).select_one('input[name="csrftoken"]')
        assert field is not None
        cookies = dict(browser.cookies)
    form = {"email": EMAIL, "password": "wrong password", "csrftoken": str(field["value"])}
    start = threading.Barrier(SIMULTANEOUS)
    statuses: list[int] = []

    def attempt() -> None:
        with httpx2.Client(base_url=served.base, cookies=cookies, timeout=60) as client:
            start.wait()
            statuses.append(client.post("/login", data=form).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [400] * MAX_ATTEMPTS_PER_ACCOUNT + [429] * (
        SIMULTANEOUS - MAX_ATTEMPTS_PER_ACCOUNT
    )
    with httpx2.Client(base_url=served.base, cookies=cookies) as client:
        right = client.post("/login", data=form | {"password": PASSWORD})
    assert right.status_code == 429
