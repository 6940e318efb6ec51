"""Logs: one JSON object per line, each with its request's id; one access line per request; an
unhandled error logged with the id that its 500 page shows; and no password in any of it."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import logs
from app.main import create_app
from app.models import User
from app.settings import Settings
from tests.editing import PASSWORD, csrf_token, make_user, sign_in
from tests.factories import make_exchange
from tests.html import parse, text

SECRET_KEY = "s3cret-signing-key-never-shown"
LEAKY_MESSAGE = "connection to db at postgresql://swap:hunter2@db/swaptally failed"


def records(err: str) -> list[dict[str, Any]]:
    """The JSON log records written to stderr (every line must be one)."""
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def broken(router: APIRouter) -> None:
    @router.get("/api/v1/broken")
    @router.get("/broken")
    def fail() -> None:
        raise RuntimeError(LEAKY_MESSAGE)


@pytest.fixture
def app(database_url: str, engine: Engine) -> FastAPI:  # noqa: ARG001 (schema)
    settings = Settings(environment="test", database_url=database_url, secret_key=SECRET_KEY)
    app = create_app(settings)
    router = APIRouter()
    broken(router)
    app.include_router(router)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def test_each_request_gets_an_id_and_an_access_line(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get("/api/v1/totals?q=private-query-text")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    [line] = records(capsys.readouterr().err)
    assert line["logger"] == "swaptally.access"
    assert line["level"] == "INFO"
    assert line["message"] == "GET /api/v1/totals 200"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/totals", 200)
    assert line["request_id"] == request_id
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00")
    assert "private-query-text" not in json.dumps(line)  # the query string is left out


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("4bf92f3577b34da6a3ce929d0e0e4736", True),
        ("req-2025-05-23.abc:1/2+3=", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("has space", False),
        ("<script>", False),
        ("-starts-with-a-dash", False),
        ("", False),
    ],
)
def test_a_sane_incoming_request_id_is_kept_and_echoed(
    client: TestClient, capsys: pytest.CaptureFixture[str], incoming: str, kept: bool
) -> None:
    capsys.readouterr()
    response = client.get("/api/v1/totals", headers={"X-Request-ID": incoming})
    request_id = response.headers["x-request-id"]
    assert (request_id == incoming) is kept
    if not kept:
        assert len(request_id) == 32
        assert request_id.isalnum()
    [line] = records(capsys.readouterr().err)
    assert line["request_id"] == request_id


def test_an_unhandled_error_is_a_500_page_with_the_logged_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get("/broken", headers={"X-Request-ID": "support-ticket-42"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-request-id"] == "support-ticket-42"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = parse(response.text)
    assert text(page.select_one("h1")) == "Something went wrong on our side"
    assert text(page.select_one(".request-id")) == "support-ticket-42"
    for secret in ("Traceback", "RuntimeError", "hunter2", SECRET_KEY, "app/", ".py"):
        assert secret not in response.text
    error, access = records(capsys.readouterr().err)
    assert (error["logger"], error["level"]) == ("swaptally.error", "ERROR")
    assert error["request_id"] == "support-ticket-42"
    assert (error["method"], error["path"]) == ("GET", "/broken")
    assert "RuntimeError" in error["exc_info"]
    assert (access["status"], access["request_id"]) == (500, "support-ticket-42")


def test_an_unhandled_api_error_is_json_with_the_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = client.get("/api/v1/broken")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {"detail": "Internal Server Error", "request_id": request_id}
    assert "hunter2" not in response.text
    assert any(line.get("exc_info") for line in records(capsys.readouterr().err))


def test_the_500_page_is_in_the_readers_language(client: TestClient) -> None:
    response = client.get("/broken?lang=uk")
    assert response.status_code == 500
    assert text(parse(response.text).select_one("h1")) == "Щось пішло не так з нашого боку"


def test_if_the_error_page_itself_fails_the_answer_is_still_a_plain_500(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state, "templates", {})  # rendering any page now fails
    response = client.get("/broken", headers={"X-Request-ID": "abc"})
    assert response.status_code == 500
    assert response.text == "Internal Server Error (request id abc)"


def test_a_password_posted_to_login_never_reaches_the_logs(
    client: TestClient, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    make_user(session, "ed@example.org")
    wrong = "wr0ng-Passw0rd-!"
    capsys.readouterr()
    assert sign_in(client, "ed@example.org", wrong).status_code == 400
    assert sign_in(client, "ed@example.org").status_code == 303
    # Without a CSRF token, and as a query string, it is refused but must not be logged either.
    assert client.post("/login", data={"email": "x", "password": wrong}).status_code == 403
    client.get(f"/login?password={wrong}")
    token = csrf_token(client, "/login")
    too_long = client.post("/login", data={"csrftoken": token, "password": wrong * 100})
    assert too_long.status_code in (400, 422)
    err = capsys.readouterr().err
    lines = records(err)
    assert [line["path"] for line in lines if line["logger"] == "swaptally.access"].count(
        "/login"
    ) >= 6
    for secret in (PASSWORD, wrong, SECRET_KEY):
        assert secret not in err


@pytest.mark.postgresql
def test_database_errors_do_not_carry_their_parameters(session: Session) -> None:
    """What an unhandled error logs: the statement, never the values (hashes, emails)."""
    row = {"email": "ed@example.org", "password_hash": "argon2-hash-never-logged", "role": "editor"}
    session.execute(insert(User).values(row))
    with pytest.raises(IntegrityError) as duplicate:
        session.execute(insert(User).values(row))
    message = str(duplicate.value)
    assert "INSERT INTO" in message
    assert "argon2-hash-never-logged" not in message  # (PostgreSQL names the duplicate key)


@pytest.mark.parametrize(("path", "request_id"), [("/embed/x", "abc"), ('/a"b\\ü\n', None)])
def test_an_access_line_is_what_python_json_logger_writes_for_its_record(
    path: str, request_id: str | None
) -> None:
    """`log_access` writes its line itself when our handler alone would get the record: the
    line must stay what `Logger.info(..., extra=...)` and the formatter make of it."""
    fields = {"method": "GET", "path": path, "status": 304}
    record = logging.getLogger(logs.ACCESS_LOGGER).makeRecord(
        logs.ACCESS_LOGGER, logging.INFO, "x.py", 1, logs.ACCESS_MESSAGE,
        tuple(fields.values()), None, extra={**fields, "duration_ms": 0.3},
    )  # fmt: skip
    record.request_id = request_id  # as the handler's filter sets it
    line = logs.access_line("GET", path, 304, 0.3, request_id, record.created)
    assert line == logs.json_formatter().format(record)


def only_our_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logging as `swaptally serve` has it: our handler alone on the root. (pytest adds its own
    as each test starts, and they send access lines the usual way.)"""
    ours = [h for h in logging.getLogger().handlers if h.get_name() == logs.HANDLER_NAME]
    monkeypatch.setattr(logging.getLogger(), "handlers", ours)


def test_access_lines_written_directly_are_the_usual_ones(
    client: TestClient,
    session: Session,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_exchange(session)
    only_our_handler(monkeypatch)
    assert logs._sole_handler() is not None  # the direct way is the one taken
    capsys.readouterr()
    first = client.get("/embed/istanbul-1000-for-1000?x=private")
    client.get("/embed/istanbul-1000-for-1000", headers={"If-None-Match": first.headers["etag"]})
    lines = records(capsys.readouterr().err)
    assert [(line["logger"], line["level"], line["message"], line["status"]) for line in lines] == [
        ("swaptally.access", "INFO", "GET /embed/istanbul-1000-for-1000 200", 200),
        ("swaptally.access", "INFO", "GET /embed/istanbul-1000-for-1000 304", 304),
    ]
    assert lines[0]["request_id"] == first.headers["x-request-id"]
    assert list(lines[0]) == [
        "level", "logger", "message", "method", "path", "status", "duration_ms", "request_id",
        "time",
    ]  # fmt: skip
    assert "private" not in json.dumps(lines)


def test_a_filter_or_another_handler_gets_the_access_record(
    client: TestClient,  # noqa: ARG001 (configures logging)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_our_handler(monkeypatch)
    assert logs._sole_handler() is not None
    seen: list[logging.LogRecord] = []
    monkeypatch.setattr(logs.access_log, "filters", [lambda record: seen.append(record) or True])
    assert logs._sole_handler() is None
    logs.log_access("GET", "/x", 200, 0.1)
    [record] = seen
    assert (record.getMessage(), record.duration_ms) == ("GET /x 200", 0.1)  # type: ignore[attr-defined]
    monkeypatch.setattr(logs.access_log, "filters", [])
    monkeypatch.setattr(logs.access_log, "handlers", [logging.NullHandler()])
    assert logs._sole_handler() is None


def test_a_cached_widget_has_its_access_line(
    client: TestClient, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    make_exchange(session)
    capsys.readouterr()
    first = client.get("/embed/istanbul-1000-for-1000")  # rendered
    again = client.get("/embed/istanbul-1000-for-1000")  # answered from the cache
    revalidated = client.get(
        "/embed/istanbul-1000-for-1000", headers={"If-None-Match": first.headers["etag"]}
    )
    lines = [line for line in records(capsys.readouterr().err) if line["logger"] != "sqlalchemy"]
    assert [(line["logger"], line["status"]) for line in lines] == [
        ("swaptally.access", 200),
        ("swaptally.access", 200),
        ("swaptally.access", 304),
    ]
    assert [line["request_id"] for line in lines] == [
        response.headers["x-request-id"] for response in (first, again, revalidated)
    ]
    assert {line["message"] for line in lines[:2]} == {"GET /embed/istanbul-1000-for-1000 200"}


def test_the_access_log_keeps_its_level(
    client: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs.access_log, "level", logging.WARNING)
    monkeypatch.setattr(logs.access_log.manager, "_disable", 0)
    logs.access_log.manager._clear_cache()
    capsys.readouterr()
    assert client.get("/healthz").status_code == 200
    assert records(capsys.readouterr().err) == []
