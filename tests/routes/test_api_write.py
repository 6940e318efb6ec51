"""The editors' write API: tokens, ETags and If-Match, history under the token's user, and a 422
naming the field (never a 500) for every kind of bad body."""

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from starlette.routing import NoMatchFound

from app import accounts, writes
from app.main import create_app
from app.models import Exchange, Revision, Stage, User
from app.routes import api_write
from app.settings import Settings
from tests.factories import SOURCE, make_exchange, stage_data

SLUG = "istanbul-1000-for-1000"
EXCHANGE = {
    "slug": SLUG,
    "title": "Istanbul 1,000 for 1,000",
    "status": "in_progress",
    "agreed_on": "2025-05-16",
    "planned_stages": 3,
    "sides": [
        {"key": "a", "name": "Ukraine", "target": {"people": 1000}},
        {"key": "b", "name": "Russia", "target": {"people": 1000}},
    ],
}


def stage_body(military: Any, civilian: Any, day: str = "2025-05-23", **fields: Any) -> Any:
    sides = [{"key": key, "military": military, "civilian": civilian} for key in "ab"]
    return {"date": day, "status": "confirmed", "sides": sides, "sources": [SOURCE]} | fields


def write_api_included(app: FastAPI) -> bool:
    try:
        return app.url_path_for("read_stage", stage_id="1") == "/api/v1/stages/1"
    except NoMatchFound:
        return False


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:  # noqa: ARG001 (schema)
    """The app, with the write API included if app.main does not include it yet."""
    app = create_app(settings)
    if not write_api_included(app):
        app.include_router(api_write.router)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def editor(session: Session) -> User:
    user = accounts.create_user(
        session, email="ed@example.org", password="correct horse battery", role="editor"
    )
    session.commit()
    return user


@pytest.fixture
def token(session: Session, editor: User) -> str:
    _, plain = accounts.create_token(session, user=editor, name="newsroom script")
    session.commit()
    return plain


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stage(session: Session) -> Stage:
    """Day one of the Istanbul exchange, published: 270 servicemen and 120 civilians each way."""
    exchange = make_exchange(session, stage_data(a=(270, 120)))
    session.commit()
    [stage] = session.scalars(select(Stage).where(col(Stage.exchange_id) == exchange.id))
    return stage


def stored(session: Session) -> tuple[int, ...]:
    """Rows and versions: equal before and after a refused write when nothing changed."""
    session.commit()  # a fresh snapshot: the app wrote through its own session
    return tuple(
        session.scalar(query) or 0
        for query in (
            select(func.count(col(Exchange.id))),
            select(func.sum(col(Exchange.version))),
            select(func.count(col(Stage.id))),
            select(func.sum(col(Stage.version))),
            select(func.count(col(Revision.id))),
        )
    )


def send(
    client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx2.Response:
    """Send `body` as JSON text with non-ASCII escaped, so that it may hold lone surrogates."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = headers | {"Content-Type": "application/json"}
    return client.request(method, path, content=content, headers=headers)


def ukraine(client: TestClient) -> dict[str, Any]:
    response = client.get(f"/api/v1/exchanges/{SLUG}")
    assert response.status_code == 200, response.text
    side: dict[str, Any] = response.json()["sides"][0]
    return side


def last_revision(session: Session) -> Revision:
    session.commit()
    revision = session.scalars(select(Revision).order_by(col(Revision.id).desc())).first()
    assert revision is not None
    return revision


# ---- creating ----------------------------------------------------------------------------


def test_create_exchange(
    client: TestClient, session: Session, auth: dict[str, str], editor: User
) -> None:
    response = client.post(
        "/api/v1/exchanges", json=EXCHANGE | {"reason": "Istanbul talks"}, headers=auth
    )
    assert response.status_code == 201, response.text
    assert response.headers["ETag"] == f'"exchange-{SLUG}-v1"'
    assert response.headers["Location"] == f"/api/v1/exchanges/{SLUG}"
    body = response.json()
    assert (body["slug"], body["status"], body["version"], body["stages_count"]) == (
        SLUG,
        "in_progress",
        1,
        0,
    )
    assert body["sides"][0]["target"]["people"] == 1000
    assert (body["sources"], body["stages"]) == ([], [])
    revision = last_revision(session)
    assert (revision.entity, revision.action, revision.actor, revision.user_id) == (
        "exchange",
        "create",
        "ed@example.org",
        editor.id,
    )
    assert revision.reason == "Istanbul talks"


@pytest.mark.postgresql
def test_stages_add_up_in_the_public_tally(
    client: TestClient, session: Session, auth: dict[str, str], editor: User
) -> None:
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth).status_code == 201
    day_one = client.post(
        f"/api/v1/exchanges/{SLUG}/stages", json=stage_body(270, 120), headers=auth
    )
    assert day_one.status_code == 201, day_one.text
    stage_id = day_one.json()["id"]
    assert day_one.headers["ETag"] == f'"stage-{stage_id}-v1"'
    assert day_one.headers["Location"] == f"/api/v1/stages/{stage_id}"
    assert day_one.json()["sides"][0] == {
        "key": "a",
        "military": 270,
        "civilian": 120,
        "people": 390,
        "remains": None,
    }
    assert (ukraine(client)["returned"]["people"], ukraine(client)["percent"]) == (390, 39.0)

    day_two = stage_body(307, 0, "2025-05-24")
    assert (
        client.post(f"/api/v1/exchanges/{SLUG}/stages", json=day_two, headers=auth).status_code
        == 201
    )
    side = ukraine(client)
    assert (side["returned"]["people"], side["target"]["people"], side["remaining"]) == (
        697,
        1000,
        303,
    )
    revision = last_revision(session)
    assert (revision.entity, revision.action, revision.actor, revision.user_id) == (
        "stage",
        "create",
        "ed@example.org",
        editor.id,
    )


@pytest.mark.postgresql
def test_a_total_without_its_split_stays_exact(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth).status_code == 201
    sides = [{"key": "a", "people": 215, "military": None}, {"key": "b", "people": None}]
    body = stage_body(0, 0) | {"sides": sides}
    response = client.post(f"/api/v1/exchanges/{SLUG}/stages", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert [side["people"] for side in response.json()["sides"]] == [215, None]
    assert (ukraine(client)["returned"]["people"], ukraine(client)["undisclosed"]) == (215, False)


def test_create_exchange_with_its_stages(client: TestClient, auth: dict[str, str]) -> None:
    stages = [
        stage_body(270, 120),
        stage_body(307, 0, "2025-05-24"),
        stage_body(303, 0, "2025-05-25"),
    ]
    response = client.post("/api/v1/exchanges", json=EXCHANGE | {"stages": stages}, headers=auth)
    assert response.status_code == 201, response.text
    assert [stage["date"] for stage in response.json()["stages"]] == [
        "2025-05-23",
        "2025-05-24",
        "2025-05-25",
    ]
    assert ukraine(client)["returned"]["people"] == 1000


def test_a_draft_exchange_is_answered_to_its_editor_only(
    client: TestClient, auth: dict[str, str]
) -> None:
    response = client.post("/api/v1/exchanges", json=EXCHANGE | {"published": False}, headers=auth)
    assert (response.status_code, response.json()["slug"]) == (201, SLUG)
    assert client.get(f"/api/v1/exchanges/{SLUG}").status_code == 404
    draft_stage = stage_body(270, 120, published=False, sources=[])
    staged = client.post(f"/api/v1/exchanges/{SLUG}/stages", json=draft_stage, headers=auth)
    assert (staged.status_code, staged.json()["published"]) == (201, False)
    published = client.patch(
        f"/api/v1/exchanges/{SLUG}",
        json={"published": True},
        headers=auth | {"If-Match": response.headers["ETag"]},
    )
    assert published.status_code == 200, published.text
    assert client.get(f"/api/v1/exchanges/{SLUG}").json()["stages_count"] == 0


# ---- changing ----------------------------------------------------------------------------


def test_patch_stage_with_its_etag(
    client: TestClient, session: Session, auth: dict[str, str], editor: User, stage: Stage
) -> None:
    read = client.get(f"/api/v1/stages/{stage.id}", headers=auth)
    assert (read.status_code, read.headers["ETag"]) == (200, f'"stage-{stage.id}-v1"')
    assert read.headers["Cache-Control"] == "private, no-store"
    changes = {"sides": stage_body(270, 119)["sides"], "reason": "Ministry corrected civilians"}
    response = client.patch(
        f"/api/v1/stages/{stage.id}",
        json=changes,
        headers=auth | {"If-Match": read.headers["ETag"]},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"stage-{stage.id}-v2"'
    body = response.json()
    assert (body["version"], body["sides"][0]["people"], body["notes"]) == (2, 389, "")
    # Fields not sent are kept; v2 adds who is quoted and the figures they gave.
    assert body["sources"] == [
        SOURCE | {"published_at": None, "announcer": None, "speaks_for": None, "figures": []}
    ]
    assert ukraine(client)["returned"]["people"] == 389
    [revision, created] = writes.history(session, entity="stage", entity_id=stage.id)
    assert (revision.action, revision.actor, revision.user_id, revision.reason) == (
        "update",
        "ed@example.org",
        editor.id,
        "Ministry corrected civilians",
    )
    assert created.actor == "test"


def test_patch_exchange_with_its_etag(
    client: TestClient, session: Session, auth: dict[str, str], editor: User, stage: Stage
) -> None:
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    response = client.patch(
        f"/api/v1/exchanges/{SLUG}",
        json={"status": "completed", "venue": "Istanbul", "slug": SLUG},
        headers=auth | {"If-Match": f'"exchange-{SLUG}-v1"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"exchange-{SLUG}-v2"'
    body = response.json()
    assert (body["status"], body["venue"], body["title"], body["version"]) == (
        "completed",
        "Istanbul",
        "Istanbul 1,000 for 1,000",
        2,
    )
    assert body["stages_count"] == 1
    [revision, _] = writes.history(session, entity="exchange", entity_id=exchange.id)
    assert (revision.action, revision.actor, revision.user_id) == (
        "update",
        "ed@example.org",
        editor.id,
    )


def test_a_changed_target_needs_a_reason(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    before = stored(session)
    sides = [
        {"key": "a", "name": "Ukraine", "target": {"people": 1200}},
        {"key": "b", "name": "Russia", "target": {"people": 1200}},
    ]
    response = client.patch(
        f"/api/v1/exchanges/{SLUG}",
        json={"sides": sides},
        headers=auth | {"If-Match": f'"exchange-{SLUG}-v1"'},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]
    assert stored(session) == before


def test_a_changed_published_figure_needs_a_reason(
    client: TestClient, session: Session, auth: dict[str, str], stage: Stage
) -> None:
    before = stored(session)
    response = client.patch(
        f"/api/v1/stages/{stage.id}",
        json={"sides": stage_body(271, 120)["sides"], "reason": "  "},
        headers=auth | {"If-Match": f'"stage-{stage.id}-v1"'},
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert "correction" in error["msg"]
    assert stored(session) == before


@pytest.mark.postgresql
def test_a_stale_etag_changing_other_fields_is_merged(
    client: TestClient, auth: dict[str, str], stage: Stage
) -> None:
    """Documented: a PATCH on an older version that sets only fields nobody changed since is
    merged, and says which fields it kept from the newer version."""
    first = client.patch(
        f"/api/v1/stages/{stage.id}",
        json={"notes": "first editor"},
        headers=auth | {"If-Match": f'"stage-{stage.id}-v1"'},
    )
    assert first.status_code == 200, first.text
    second = client.patch(
        f"/api/v1/stages/{stage.id}",
        json={"sides": stage_body(1, 1)["sides"], "reason": "typo"},
        headers=auth | {"If-Match": f'"stage-{stage.id}-v1"'},
    )
    assert second.status_code == 200, second.text
    assert second.headers["Swaptally-Merged"] == "notes"
    assert second.headers["ETag"] == f'"stage-{stage.id}-v3"'
    assert second.json()["notes"] == "first editor"
    assert ukraine(client)["returned"]["people"] == 2


@pytest.mark.postgresql
def test_a_stale_etag_is_refused_and_changes_nothing(
    client: TestClient, session: Session, auth: dict[str, str], stage: Stage
) -> None:
    first = client.patch(
        f"/api/v1/stages/{stage.id}",
        json={"notes": "first editor"},
        headers=auth | {"If-Match": f'"stage-{stage.id}-v1"'},
    )
    assert first.status_code == 200, first.text
    before = stored(session)
    second = client.patch(
        f"/api/v1/stages/{stage.id}",
        json={"notes": "second editor", "sides": stage_body(1, 1)["sides"], "reason": "typo"},
        headers=auth | {"If-Match": f'"stage-{stage.id}-v1"'},
    )
    assert second.status_code == 412
    assert second.headers["ETag"] == f'"stage-{stage.id}-v2"'
    detail = second.json()["detail"]
    assert (detail["etag"], detail["version"]) == (f'"stage-{stage.id}-v2"', 2)
    assert detail["current"]["notes"] == "first editor"
    assert detail["clashes"] == ["notes"]  # the figures were not changed since: no clash
    assert "(both changed: notes)" in detail["message"]
    assert stored(session) == before
    assert ukraine(client)["returned"]["people"] == 390


@pytest.mark.postgresql
def test_a_stale_exchange_etag_is_refused(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    before = stored(session)
    response = client.patch(
        f"/api/v1/exchanges/{SLUG}",
        json={"title": "Renamed"},
        headers=auth | {"If-Match": f'"exchange-{SLUG}-v7"'},
    )
    assert response.status_code == 412
    detail = response.json()["detail"]
    assert (detail["version"], detail["current"]["title"]) == (1, "Istanbul 1,000 for 1,000")
    assert stored(session) == before


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        (None, 428),
        ("", 428),
        ("*", 428),
        ('W/"stage-{id}-v1"', 412),  # a weak tag never matches: If-Match compares strongly
        ('"stage-{id}-v01"', 412),
        ('"stage-999-v1"', 412),  # another stage's version
        ("stage-{id}-v1", 412),  # unquoted: not an entity tag
        ('"stage-{id}-v0", "stage-{id}-v1"', 200),  # any of a list may match
    ],
)
def test_if_match_is_required_and_exact(
    client: TestClient,
    session: Session,
    auth: dict[str, str],
    stage: Stage,
    if_match: str | None,
    status: int,
) -> None:
    before = stored(session)
    headers = auth if if_match is None else auth | {"If-Match": if_match.format(id=stage.id)}
    response = client.patch(f"/api/v1/stages/{stage.id}", json={"notes": "x"}, headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert stored(session) == before
    if status == 428:
        assert "If-Match" in response.json()["detail"]


def test_exchange_patch_without_if_match_is_428(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session)
    response = client.patch(f"/api/v1/exchanges/{SLUG}", json={"title": "x"}, headers=auth)
    assert response.status_code == 428


# ---- who may write -----------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "/api/v1/exchanges"),
    ("PATCH", f"/api/v1/exchanges/{SLUG}"),
    ("POST", f"/api/v1/exchanges/{SLUG}/stages"),
    ("GET", "/api/v1/stages/1"),
    ("PATCH", "/api/v1/stages/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer st_not-a-token", "Basic ZWQ6cGFzc3dvcmQ="]
)
def test_no_valid_token_is_401(
    client: TestClient,
    session: Session,
    stage: Stage,  # noqa: ARG001 (something to change)
    method: str,
    path: str,
    authorization: str | None,
) -> None:
    before = stored(session)
    headers = {"If-Match": '"stage-1-v1"'}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.request(method, path, json=stage_body(1, 1), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.json()["detail"]
    assert stored(session) == before


def test_revoked_token_is_401(
    client: TestClient, session: Session, auth: dict[str, str], editor: User
) -> None:
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth).status_code == 201
    [api_token] = accounts.list_tokens(session, user=editor)
    assert accounts.revoke_token(session, user=editor, token_id=api_token.id or 0)
    session.commit()
    other = EXCHANGE | {"slug": "another"}
    response = client.post("/api/v1/exchanges", json=other, headers=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_deactivated_user_is_401(
    client: TestClient, session: Session, auth: dict[str, str], editor: User
) -> None:
    accounts.deactivate(session, user=editor)
    session.commit()
    accounts.reactivate(session, user=editor)  # reactivating does not revive old tokens
    session.commit()
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth).status_code == 401


def test_an_inactive_owner_is_401_even_with_a_live_token(
    client: TestClient, session: Session, auth: dict[str, str], editor: User
) -> None:
    editor.is_active = False
    session.add(editor)
    session.commit()
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth).status_code == 401


def test_admins_write_too(client: TestClient, session: Session) -> None:
    admin = accounts.create_user(
        session, email="admin@example.org", password="correct horse battery", role="admin"
    )
    _, plain = accounts.create_token(session, user=admin, name="admin script")
    session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.post("/api/v1/exchanges", json=EXCHANGE, headers=headers).status_code == 201
    assert last_revision(session).actor == "admin@example.org"


# ---- bad input: 422 naming the field, nothing stored -------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"date": ', ["body", 9]),
        ([], ["body"]),
        (stage_body(270, 120) | {"date": "2025-02-30"}, ["body", "date"]),
        (stage_body(270, 120) | {"status": "rumoured"}, ["body", "status"]),
        (stage_body(270, 120) | {"published": "maybe"}, ["body", "published"]),
        (stage_body(270, 120) | {"notes": 12}, ["body", "notes"]),
        pytest.param(
            stage_body(270, 120) | {"notes": "Day 1\x00"},
            ["body", "notes"],
            marks=pytest.mark.postgresql,
        ),
        (stage_body(270, 120) | {"reason": ["why"]}, ["body", "reason"]),
        (stage_body("many", 120), ["body", "sides", 0, "military"]),
        (stage_body(-1, 120), ["body", "sides", 0, "military"]),
        pytest.param(
            stage_body(2**31, 120), ["body", "sides", 0, "military"], marks=pytest.mark.postgresql
        ),
        pytest.param(
            stage_body(10**30, 120), ["body", "sides", 0, "military"], marks=pytest.mark.postgresql
        ),
        # The one limit of a stage, whoever sends it: 100,000 in one release.
        pytest.param(
            stage_body(2**31 - 1, 1), ["body", "sides", 0, "military"], marks=pytest.mark.postgresql
        ),
        (stage_body(100_001, 1), ["body", "sides", 0, "military"]),
        (stage_body(270, 120) | {"date": "2099-01-01"}, ["body", "date"]),
        (stage_body(270, 120) | {"date": "2013-12-31"}, ["body", "date"]),
        (
            stage_body(270, 120)
            | {
                "sides": [
                    {"key": "a", "military": 270, "civilian": 120, "people": 391},
                    {"key": "b"},
                ]
            },
            ["body", "sides", 0, "people"],
        ),
        (
            stage_body(270, 120) | {"sides": [{"key": "a"}, {"key": "c"}]},
            ["body", "sides", 1, "key"],
        ),
        (
            stage_body(270, 120)
            | {"sides": [{"key": "a", "military": 200, "people": 100}, {"key": "b"}]},
            ["body", "sides", 0, "people"],
        ),
        (stage_body(270, 120) | {"sides": [{"key": "a"}]}, ["body", "sides"]),
        (stage_body(270, 120) | {"sides": None}, ["body", "sides"]),
        ({"date": "2025-05-23", "sources": [SOURCE]}, ["body", "sides"]),
        ({k: v for k, v in stage_body(270, 120).items() if k != "sources"}, ["body", "sources"]),
        (stage_body(270, 120, sources=[]), ["body", "sources"]),
        (
            stage_body(270, 120, sources=[SOURCE | {"url": "javascript:alert(1)"}]),
            ["body", "sources", 0, "url"],
        ),
        (
            stage_body(270, 120, sources=[SOURCE | {"url": "ftp://example.org/x"}]),
            ["body", "sources", 0, "url"],
        ),
        (
            stage_body(270, 120, sources=[SOURCE | {"publisher": ""}]),
            ["body", "sources", 0, "publisher"],
        ),
        pytest.param(
            stage_body(270, 120) | {"notes": "\ud800"},
            ["body", "notes"],
            marks=pytest.mark.postgresql,
        ),
    ],
)
def test_bad_stage_is_422_naming_the_field(
    client: TestClient,
    session: Session,
    auth: dict[str, str],
    stage: Stage,  # noqa: ARG001 (the exchange to add to)
    body: Any,
    loc: list[str | int],
) -> None:
    before = stored(session)
    path = f"/api/v1/exchanges/{SLUG}/stages"
    response = send(client, "POST", path, body, auth)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert stored(session) == before


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"slug": "Not a slug!"}, ["body", "slug"]),
        ({"slug": ""}, ["body", "slug"]),
        ({"title": None}, ["body", "title"]),
        pytest.param({"title": "x" * 301}, ["body", "title"], marks=pytest.mark.postgresql),
        ({"status": "finished"}, ["body", "status"]),
        ({"planned_stages": 0}, ["body", "planned_stages"]),
        pytest.param(
            {"planned_stages": 10**12}, ["body", "planned_stages"], marks=pytest.mark.postgresql
        ),
        pytest.param(
            {"mediators": ["UAE\x00"]}, ["body", "mediators", 0], marks=pytest.mark.postgresql
        ),
        ({"agreed_on": "soon"}, ["body", "agreed_on"]),
        ({"sides": [{"key": "a", "name": "Ukraine"}]}, ["body", "sides"]),
        (
            {
                "sides": [
                    {"key": "a", "name": "U", "target": {"people": -5}},
                    {"key": "b", "name": "R"},
                ]
            },
            ["body", "sides", 0, "target", "people"],
        ),
        pytest.param(
            {
                "sides": [
                    {"key": "a", "name": "U", "target": {"people": 2**40}},
                    {"key": "b", "name": "R"},
                ]
            },
            ["body", "sides", 0, "target", "people"],
            marks=pytest.mark.postgresql,
        ),
        ({"sources": [SOURCE | {"url": "//example.org"}]}, ["body", "sources", 0, "url"]),
        ({"stages": [stage_body(270, 120, sources=[])]}, ["body", "stages", 0, "sources"]),
        (
            {"stages": [stage_body(270, 120) | {"sides": [{"key": "b"}]}]},
            ["body", "stages", 0, "sides"],
        ),
    ],
)
def test_bad_exchange_is_422_naming_the_field(
    client: TestClient,
    session: Session,
    auth: dict[str, str],
    changes: dict[str, Any],
    loc: list[str | int],
) -> None:
    before = stored(session)
    response = send(client, "POST", "/api/v1/exchanges", EXCHANGE | changes, auth)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert stored(session) == before


@pytest.mark.postgresql
def test_a_taken_slug_is_422_naming_it(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    make_exchange(session, published=False)
    before = stored(session)
    response = client.post("/api/v1/exchanges", json=EXCHANGE | {"title": "Another"}, headers=auth)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["input"]) == (["body", "slug"], SLUG)
    assert stored(session) == before


@pytest.mark.postgresql
def test_other_integrity_errors_are_not_blamed_on_the_slug(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise IntegrityError("INSERT", {}, Exception("some other constraint"))

    monkeypatch.setattr(writes, "create_exchange", broken)
    response = client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth)
    assert response.status_code == 500  # logged with its request id; never a 422 on the slug
    assert response.json() == {
        "detail": "Internal Server Error",
        "request_id": response.headers["x-request-id"],
    }


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"slug": "renamed"}, ["body", "slug"]),
        ({"stages": []}, ["body", "stages"]),
        ({"title": None}, ["body", "title"]),
        pytest.param({"title": "Istanbul\x00"}, ["body", "title"], marks=pytest.mark.postgresql),
        ({"status": "finished"}, ["body", "status"]),
        ({"sides": [{"key": "a", "name": "Ukraine"}]}, ["body", "sides"]),
        ({"reason": 5}, ["body", "reason"]),
        pytest.param({"reason": "\ud800"}, ["body", "reason"], marks=pytest.mark.postgresql),
    ],
)
def test_bad_exchange_patch_is_422_naming_the_field(
    client: TestClient,
    session: Session,
    auth: dict[str, str],
    changes: dict[str, Any],
    loc: list[str | int],
) -> None:
    make_exchange(session)
    before = stored(session)
    headers = auth | {"If-Match": f'"exchange-{SLUG}-v1"'}
    response = send(client, "PATCH", f"/api/v1/exchanges/{SLUG}", changes, headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert stored(session) == before


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ("not an object", ["body"]),
        pytest.param(["\ud800"], ["body"], marks=pytest.mark.postgresql),
        ({"exchange": "another-exchange"}, ["body", "exchange"]),
        ({"sources": []}, ["body", "sources"]),
        ({"sources": [SOURCE | {"url": "file:///etc/passwd"}]}, ["body", "sources", 0, "url"]),
        (
            {
                "sides": [
                    {"key": "a", "military": 270, "civilian": 120, "people": 1},
                    {"key": "b"},
                ],
                "reason": "r",
            },
            ["body", "sides", 0, "people"],
        ),
        ({"sides": [{"key": "b"}, {"key": "b"}]}, ["body", "sides"]),
        ({"status": "rumoured"}, ["body", "status"]),
        ({"date": None}, ["body", "date"]),
        pytest.param({"notes": "\x00"}, ["body", "notes"], marks=pytest.mark.postgresql),
        pytest.param({"notes": "\ud800"}, ["body", "notes"], marks=pytest.mark.postgresql),
    ],
)
def test_bad_stage_patch_is_422_naming_the_field(
    client: TestClient,
    session: Session,
    auth: dict[str, str],
    stage: Stage,
    changes: Any,
    loc: list[str | int],
) -> None:
    before = stored(session)
    headers = auth | {"If-Match": f'"stage-{stage.id}-v1"'}
    response = send(client, "PATCH", f"/api/v1/stages/{stage.id}", changes, headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert stored(session) == before


@pytest.mark.postgresql
def test_an_unencodable_body_gets_its_422_escaped(
    client: TestClient, auth: dict[str, str], stage: Stage
) -> None:
    headers = auth | {"If-Match": f'"stage-{stage.id}-v1"'}
    response = send(client, "PATCH", f"/api/v1/stages/{stage.id}", ["\ud800", "ok"], headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["input"]) == (["body"], '["\\ud800", "ok"]')


def test_publishing_a_draft_stage_needs_a_source(
    client: TestClient, session: Session, auth: dict[str, str]
) -> None:
    exchange = make_exchange(session, stage_data(published=False, sources=[]))
    [draft] = session.scalars(select(Stage).where(col(Stage.exchange_id) == exchange.id))
    headers = auth | {"If-Match": f'"stage-{draft.id}-v1"'}
    refused = client.patch(f"/api/v1/stages/{draft.id}", json={"published": True}, headers=headers)
    assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["body", "sources"])
    changes = {"published": True, "sources": [SOURCE]}
    published = client.patch(f"/api/v1/stages/{draft.id}", json=changes, headers=headers)
    assert published.status_code == 200, published.text
    assert ukraine(client)["returned"]["people"] == 390
    assert last_revision(session).action == "publish"


# ---- what is not there -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/exchanges/no-such-exchange/stages"),
        pytest.param("POST", "/api/v1/exchanges/Bad%00Slug/stages", marks=pytest.mark.postgresql),
        ("PATCH", "/api/v1/exchanges/no-such-exchange"),
        pytest.param("PATCH", "/api/v1/exchanges/%F0%9F%92%A5", marks=pytest.mark.postgresql),
        ("PATCH", "/api/v1/stages/999999"),
        ("PATCH", "/api/v1/stages/0"),
        ("PATCH", "/api/v1/stages/-1"),
        pytest.param("PATCH", f"/api/v1/stages/{10**30}", marks=pytest.mark.postgresql),
        ("GET", "/api/v1/stages/999999"),
    ],
)
def test_unknown_records_are_404(
    client: TestClient,
    auth: dict[str, str],
    stage: Stage,  # noqa: ARG001 (one that exists)
    method: str,
    path: str,
) -> None:
    body = stage_body(270, 120) if method == "POST" else {"notes": "x"}
    response = client.request(method, path, json=body, headers=auth | {"If-Match": '"stage-1-v1"'})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No ")


def test_deleted_stages_are_404(
    client: TestClient, session: Session, auth: dict[str, str], stage: Stage
) -> None:
    writes.delete_stage(
        session,
        stage=stage,
        expected_version=stage.version,
        actor="admin",
        user_id=None,
        reason="duplicate",
    )
    session.commit()
    headers = auth | {"If-Match": f'"stage-{stage.id}-v2"'}
    assert client.get(f"/api/v1/stages/{stage.id}", headers=auth).status_code == 404
    patched = client.patch(f"/api/v1/stages/{stage.id}", json={"notes": "x"}, headers=headers)
    assert patched.status_code == 404


def test_deleted_exchanges_are_404(
    client: TestClient, session: Session, auth: dict[str, str], stage: Stage
) -> None:
    exchange = session.get(Exchange, stage.exchange_id)
    assert exchange is not None
    exchange.deleted_at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    session.add(exchange)
    session.commit()
    headers = auth | {"If-Match": f'"stage-{stage.id}-v1"'}
    assert client.patch(f"/api/v1/stages/{stage.id}", json={}, headers=headers).status_code == 404
    staged = client.post(f"/api/v1/exchanges/{SLUG}/stages", json=stage_body(1, 1), headers=auth)
    assert staged.status_code == 404
    recreated = client.post("/api/v1/exchanges", json=EXCHANGE, headers=auth)
    assert recreated.json()["detail"][0]["loc"] == ["body", "slug"]  # slugs are never reused


def test_the_write_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/exchanges/{slug}"]) == {"get", "patch"}
    assert set(paths["/api/v1/stages/{stage_id}"]) == {"get", "patch"}
    patch = paths["/api/v1/stages/{stage_id}"]["patch"]
    assert (patch["tags"], sorted(patch["responses"])) == (
        ["editors"],
        ["200", "400", "401", "404", "412", "422", "428"],
    )
    assert patch["security"] == [{"HTTPBearer": []}]


def test_the_openapi_document_says_if_match_is_required_and_types_the_filters(
    client: TestClient,
) -> None:
    # Found by the attack review: If-Match was documented optional though a PATCH without it is
    # a 428, and `from`, `to` and `page` were plain strings.
    document = client.get("/openapi.json").json()
    for path in ("/api/v1/stages/{stage_id}", "/api/v1/exchanges/{slug}"):
        [if_match] = [
            p for p in document["paths"][path]["patch"]["parameters"] if p["name"] == "If-Match"
        ]
        assert (if_match["in"], if_match["required"]) == ("header", True)
    filters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/stages"]["get"]["parameters"]
    }
    for name in ("from", "to"):  # a date, or empty (as a form sends it)
        assert {"type": "string", "format": "date"} in filters[name]["anyOf"]
    [token, _empty] = filters["page"]["anyOf"]
    assert token["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}~[0-9]{1,18}$"
    # What it documents is what it does: each is refused naming the parameter.
    for query, name in (("from=2025-13-01", "from"), ("page=yesterday", "page")):
        refused = client.get(f"/api/v1/stages?{query}")
        assert (refused.status_code, refused.json()["detail"][0]["loc"]) == (422, ["query", name])
    assert client.get("/api/v1/stages?page=2025-05-23~7").status_code == 200
