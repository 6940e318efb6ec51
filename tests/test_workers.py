"""`swaptally serve --workers 2` on PostgreSQL: sessions, sign-in limits, metrics and caches
behave the same whichever worker answers.

Each worker is reached through a keep-alive connection that it accepted, so the test knows
which process answers; /healthz names it before and after every request that matters.
"""

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from app import crud
from app.accounts import MAX_ATTEMPTS_PER_ACCOUNT
from app.db import make_engine
from app.migrate import upgrade
from tests.editing import PASSWORD, make_user
from tests.factories import add_stage, make_exchange, stage_data
from tests.html import parse
from tests.pg import PostgresServer
from tests.served import Served, running_app

SLUG = "istanbul-1000-for-1000"
EMAIL = "ed@example.org"
MAX_AGE = 1  # CACHE_MAX_AGE, seconds
CONNECT_ATTEMPTS = 100  # new connections tried until both workers have accepted one
WAIT_SECONDS = 60


@dataclass(frozen=True)
class Cluster:
    database_url: str
    app: Served
    folder: Path


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    with postgres_server.new_database("workers") as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            make_exchange(session, stage_data())
        engine.dispose()
        folder = tmp_path_factory.mktemp("workers")
        with running_app(url, folder, workers=2, CACHE_MAX_AGE=str(MAX_AGE)) as app:
            yield Cluster(url, app, folder)


class Worker:
    """A keep-alive connection to one worker process, sharing a browser's cookies."""

    def __init__(self, client: httpx2.Client, pid: int) -> None:
        self.client, self.pid = client, pid

    def request(self, method: str, url: str, **options: object) -> httpx2.Response:
        assert self._pid() == self.pid
        response = self.client.request(method, url, **options)  # type: ignore[arg-type]
        assert self._pid() == self.pid, "the connection moved to another worker"
        return response

    def csrf_token(self, url: str) -> str:
        field = parse(self.request("GET", url).text).select_one('input[name="csrftoken"]')
        assert field is not None
        return str(field["value"])

    def _pid(self) -> int:
        pid: int = self.client.get("/healthz").json()["pid"]
        return pid


@pytest.fixture
def workers(cluster: Cluster) -> Iterator[tuple[Worker, Worker]]:
    """Two connections answered by two different workers, sharing one cookie jar."""
    browser = CookieJar()  # a jar, not httpx's Cookies, which each client would copy
    found: dict[int, httpx2.Client] = {}
    spare = []
    for _ in range(CONNECT_ATTEMPTS):
        client = httpx2.Client(base_url=cluster.app.base, cookies=browser)
        pid = client.get("/healthz").json()["pid"]
        (spare if pid in found else []).append(client)
        found.setdefault(pid, client)
        if len(found) == 2:
            break
    try:
        assert len(found) == 2, f"{CONNECT_ATTEMPTS} connections all went to one worker"
        (pid_a, a), (pid_b, b) = found.items()
        yield Worker(a, pid_a), Worker(b, pid_b)
    finally:
        for client in [*found.values(), *spare]:
            client.close()


def test_a_session_started_on_one_worker_is_valid_and_ended_on_the_other(
    cluster: Cluster, workers: tuple[Worker, Worker]
) -> None:
    a, b = workers
    engine = make_engine(cluster.database_url)
    with Session(engine) as session:
        make_user(session, f"session-{EMAIL}")
    engine.dispose()
    form = {"email": f"session-{EMAIL}", "password": PASSWORD, "next": "/editor"}
    signed_in = a.request("POST", "/login", data=form | {"csrftoken": a.csrf_token("/login")})
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/editor")
    assert b.request("GET", "/editor").status_code == 200
    logout = b.request("POST", "/logout", data={"csrftoken": b.csrf_token("/editor")})
    assert logout.status_code == 303
    assert a.request("GET", "/editor").headers["location"] == "/login?next=%2Feditor"


def test_sign_in_failures_count_across_workers(
    cluster: Cluster, workers: tuple[Worker, Worker]
) -> None:
    a, b = workers
    engine = make_engine(cluster.database_url)
    with Session(engine) as session:
        make_user(session, f"limits-{EMAIL}")
    engine.dispose()

    def sign_in(worker: Worker, password: str) -> int:
        form = {"email": f"limits-{EMAIL}", "password": password, "next": "/editor"}
        token = worker.csrf_token("/login")
        return worker.request("POST", "/login", data=form | {"csrftoken": token}).status_code

    failures = [sign_in((a, b)[n % 2], "wrong password") for n in range(MAX_ATTEMPTS_PER_ACCOUNT)]
    assert failures == [400] * MAX_ATTEMPTS_PER_ACCOUNT
    assert [sign_in(a, PASSWORD), sign_in(b, PASSWORD)] == [429, 429]
    logged = cluster.app.log.read_text(encoding="utf-8", errors="replace")
    assert "wrong password" not in logged
    assert PASSWORD not in logged


def test_metrics_add_up_every_worker(workers: tuple[Worker, Worker]) -> None:
    a, b = workers

    def counted(worker: Worker) -> float:
        exposition = worker.request("GET", "/metrics").text
        return sum(
            sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples
            if sample.name == "swaptally_http_requests_total"
            and sample.labels == {"method": "GET", "route": "/api/v1/totals", "status": "200"}
        )

    before = counted(a)
    a.request("GET", "/api/v1/totals")
    b.request("GET", "/api/v1/totals")
    b.request("GET", "/api/v1/totals")
    assert counted(a) == counted(b) == before + 3


def test_an_edit_on_one_worker_shows_on_the_other_after_max_age(
    cluster: Cluster, workers: tuple[Worker, Worker]
) -> None:
    a, b = workers
    widget = f"/embed/{SLUG}"
    before = [a.request("GET", widget), b.request("GET", widget)]  # both workers have it cached
    assert [response.status_code for response in before] == [200, 200]
    assert before[0].content == before[1].content
    engine = make_engine(cluster.database_url)
    with Session(engine) as session:
        exchange = crud.get_exchange_row(session, slug=SLUG)
        assert exchange is not None
        add_stage(session, exchange, stage_data((100, 0), date=dt.date(2025, 5, 26)))
    engine.dispose()
    deadline = time.monotonic() + WAIT_SECONDS
    for worker in (a, b):
        while worker.request("GET", widget).content == before[0].content:
            assert time.monotonic() < deadline, f"worker {worker.pid} kept the old widget"
            time.sleep(0.2)
    assert a.request("GET", widget).content == b.request("GET", widget).content
