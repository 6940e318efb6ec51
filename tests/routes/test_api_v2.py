"""The v2 API: parties, terms over time, releases and claims; `as_of`; PATCH names only real
fields; a write that changes nothing is no new version; a notes edit is never a correction."""

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import accounts
from app.models import Revision

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

THREE_PARTIES: dict[str, Any] = {
    "slug": "yemen-2023",
    "title": "Yemen, April 2023",
    "title_uk": "Ємен, квітень 2023",
    "status": "completed",
    "conflict": {"slug": "yemen-war", "name": "War in Yemen"},
    "parties": [
        {"slug": "houthis", "name": "Houthis"},
        {"slug": "yemen-government", "name": "Government of Yemen"},
        {"slug": "saudi-arabia", "name": "Saudi Arabia"},
    ],
    "terms": [
        {
            "effective": "2023-03-20",
            "targets": [
                {"received_by": "houthis", "people": 706},
                {"received_by": "yemen-government", "people": 181},
            ],
        }
    ],
}
SOURCE = {"url": "https://example.org/icrc", "publisher": "ICRC", "claim": "Day one."}
RELEASES = [
    {"released_by": "yemen-government", "received_by": "houthis", "people": 318},
    {"released_by": "houthis", "received_by": "yemen-government", "people": 70},
    {"released_by": "houthis", "received_by": "saudi-arabia", "people": 16},
]


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    user = accounts.create_user(
        session, email="ed@example.org", password="correct horse battery", role="editor"
    )
    _, plain = accounts.create_token(session, user=user, name="newsroom script")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def post_stage(client: TestClient, auth: dict[str, str], slug: str, body: Any) -> Any:
    response = client.post(f"/api/v1/exchanges/{slug}/stages", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response


def test_a_three_party_exchange_with_its_stage(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    assert created.status_code == 201, created.text
    post_stage(
        client,
        auth,
        "yemen-2023",
        {"date": "2023-04-14", "releases": RELEASES, "sources": [SOURCE]},
    )
    exchange = client.get("/api/v1/exchanges/yemen-2023").json()
    assert exchange["conflict"] == {"slug": "yemen-war", "name": "War in Yemen"}
    assert [p["slug"] for p in exchange["parties"]] == [
        "houthis",
        "yemen-government",
        "saudi-arabia",
    ]
    assert [(t["received_by"], t["people"], t["target"]["people"]) for t in exchange["tally"]] == [
        ("houthis", 318, 706),
        ("yemen-government", 70, 181),
        ("saudi-arabia", 16, None),
    ]
    [stage] = exchange["stages"]
    assert stage["sides"] == []  # the first API's sides are for two parties
    assert [(r["released_by"], r["received_by"]) for r in stage["releases"]] == [
        ("yemen-government", "houthis"),
        ("houthis", "yemen-government"),
        ("houthis", "saudi-arabia"),
    ]


def test_a_release_to_a_party_outside_the_exchange_is_422_naming_it(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    body = {
        "date": "2023-04-14",
        "releases": [{"released_by": "houthis", "received_by": "iran", "people": 1}],
        "sources": [SOURCE],
    }
    response = client.post("/api/v1/exchanges/yemen-2023/stages", json=body, headers=auth)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "releases", 0, "received_by"]
    assert client.get("/api/v1/exchanges/yemen-2023").json()["stages"] == []


@pytest.mark.parametrize(
    ("release", "loc"),
    [
        ({"released_by": "houthis", "received_by": "houthis", "people": 1}, ["releases", 0]),
        (
            {"released_by": "houthis", "received_by": "saudi-arabia", "people": 5,
             "categories": {"wounded": 6}},
            ["releases", 0],
        ),
        ({"released_by": "houthis", "received_by": "saudi-arabia", "people": -1},
         ["releases", 0, "people"]),
        ({"released_by": "houthis", "received_by": "saudi-arabia", "kind": "remains",
          "people": 3}, ["releases", 0, "remains"]),
        ({"released_by": "houthis", "received_by": "saudi-arabia", "qualifier": "roughly"},
         ["releases", 0, "qualifier"]),
    ],
)  # fmt: skip
def test_impossible_releases_are_422_naming_the_field(
    client: TestClient, auth: dict[str, str], release: dict[str, Any], loc: list[Any]
) -> None:
    client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    body = {"date": "2023-04-14", "releases": [release], "sources": [SOURCE]}
    response = client.post("/api/v1/exchanges/yemen-2023/stages", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", *loc]


def test_as_of_before_an_amendment_gives_the_earlier_terms_and_day_count(
    client: TestClient, auth: dict[str, str]
) -> None:
    original = {
        "slug": "extended",
        "title": "A deal that was extended",
        "parties": [{"slug": "ukraine", "name": "Ukraine"}, {"slug": "russia", "name": "Russia"}],
        "terms": [
            {
                "effective": "2025-03-01",
                "planned_stages": 2,
                "targets": [
                    {"received_by": "ukraine", "people": 200},
                    {"received_by": "russia", "people": 200},
                ],
            }
        ],
    }
    assert client.post("/api/v1/exchanges", json=original, headers=auth).status_code == 201
    for day in ("2025-03-02", "2025-03-03", "2025-03-13"):
        post_stage(client, auth, "extended", {"date": day, "sides": [
            {"key": "a", "military": 100, "civilian": 0},
            {"key": "b", "military": 100, "civilian": 0},
        ], "sources": [SOURCE]})  # fmt: skip
    amendment = {
        "effective": "2025-03-12",
        "kind": "amendment",
        "planned_stages": 3,
        "note": "Extended: 100 more prisoners each way on one more day.",
        "targets": [
            {"received_by": "ukraine", "people": 300},
            {"received_by": "russia", "people": 300},
        ],
    }
    added = client.post("/api/v1/exchanges/extended/terms", json=amendment, headers=auth)
    assert added.status_code == 201, added.text
    now = client.get("/api/v1/exchanges/extended").json()
    assert [t["kind"] for t in now["terms"]] == ["original", "amendment"]
    assert (now["tally"][0]["people"], now["tally"][0]["target"]["people"]) == (300, 300)
    assert (now["stages_count"], now["planned_stages"]) == (3, 3)
    before = client.get("/api/v1/exchanges/extended?as_of=2025-03-05").json()
    assert (before["tally"][0]["people"], before["tally"][0]["target"]["people"]) == (200, 200)
    assert (before["stages_count"], before["planned_stages"]) == (2, 2)
    assert before["sides"][0]["percent"] == 100.0
    # An amendment is news, never a correction.
    exchange_revisions = client.get("/api/v1/exchanges/extended").json()
    assert exchange_revisions["slug"] == "extended"
    assert client.get("/api/v1/exchanges/extended?as_of=2025-13-01").status_code == 422


def test_a_patch_with_a_misspelt_field_is_422_and_changes_nothing(
    client: TestClient, auth: dict[str, str], session: Session
) -> None:
    client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    stage = post_stage(
        client,
        auth,
        "yemen-2023",
        {"date": "2023-04-14", "releases": RELEASES, "sources": [SOURCE]},
    )
    etag, stage_id = stage.headers["ETag"], stage.json()["id"]
    response = client.patch(
        f"/api/v1/stages/{stage_id}", json={"noets": "typo"}, headers=auth | {"If-Match": etag}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "noets"]
    again = client.get(f"/api/v1/stages/{stage_id}", headers=auth)
    assert (again.headers["ETag"], again.json()["version"]) == (etag, 1)
    # Sending back what is stored changes nothing: no new version, no revision.
    same = client.patch(
        f"/api/v1/stages/{stage_id}", json={"notes": ""}, headers=auth | {"If-Match": etag}
    )
    assert (same.status_code, same.headers["ETag"], same.json()["version"]) == (200, etag, 1)
    revisions = session.exec(select(Revision).where(Revision.entity == "stage")).all()
    assert [r.action for r in revisions] == ["create"]


def test_a_notes_edit_on_a_published_stage_is_not_a_correction(
    client: TestClient, auth: dict[str, str], session: Session
) -> None:
    client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    stage = post_stage(
        client,
        auth,
        "yemen-2023",
        {"date": "2023-04-14", "releases": RELEASES, "sources": [SOURCE]},
    )
    edited = client.patch(
        f"/api/v1/stages/{stage.json()['id']}",
        json={"notes": "Flights from Sanaa and Aden."},
        headers=auth | {"If-Match": stage.headers["ETag"]},
    )
    assert (edited.status_code, edited.json()["version"]) == (200, 2)
    [update] = session.exec(select(Revision).where(Revision.action == "update")).all()
    assert update.is_correction is False
    page = client.get("/exchanges/yemen-2023").text
    assert "Correction" not in page
    corrected = client.patch(
        f"/api/v1/stages/{stage.json()['id']}",
        json={"releases": [RELEASES[0] | {"people": 319}, *RELEASES[1:]], "reason": "ICRC count"},
        headers=auth | {"If-Match": edited.headers["ETag"]},
    )
    assert corrected.status_code == 200, corrected.text
    session.expire_all()
    latest = session.exec(select(Revision).where(Revision.action == "update")).all()
    assert [r.is_correction for r in latest] == [False, True]
    assert "Houthis received 319, not 318. ICRC count" in " ".join(client.get(
        "/exchanges/yemen-2023").text.split())  # fmt: skip


def test_official_totals_are_shown_beside_the_sums(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth)
    post_stage(
        client,
        auth,
        "yemen-2023",
        {"date": "2023-04-14", "releases": RELEASES, "sources": [SOURCE]},
    )
    total = {
        "party": "houthis",
        "as_of": "2023-04-20",
        "people": 706,
        "source": {"url": "https://example.org/houthi-committee", "publisher": "Saba",
                   "announcer": "Houthi prisoners' committee"},
    }  # fmt: skip
    response = client.post("/api/v1/conflicts/yemen-war/official-totals", json=total, headers=auth)
    assert response.status_code == 201, response.text
    assert (
        client.post(
            "/api/v1/conflicts/no-such-war/official-totals", json=total, headers=auth
        ).status_code
        == 404
    )
    unknown = client.post(
        "/api/v1/conflicts/yemen-war/official-totals", json=total | {"party": "x"}, headers=auth
    )
    assert (unknown.status_code, unknown.json()["detail"][0]["loc"]) == (422, ["body", "party"])
    [war] = client.get("/api/v1/totals").json()["conflicts"]
    houthis = next(p for p in war["parties"] if p["slug"] == "houthis")
    assert (houthis["people"], houthis["official"]["people"]) == (318, 706)
    assert houthis["official"]["as_of"] == str(dt.date(2023, 4, 20))


def test_a_body_in_the_first_api_shape_joins_the_conflict_holding_both_sides(
    client: TestClient, auth: dict[str, str]
) -> None:
    assert client.post("/api/v1/exchanges", json=THREE_PARTIES, headers=auth).status_code == 201
    first = {
        "slug": "old-shape",
        "title": "Sent as before",
        "sides": [
            {"key": "a", "name": "HOUTHIS", "target": {"people": 10}},  # found in any case
            {"key": "b", "name": "Saudi Arabia", "target": {"people": 10}},
        ],
        "planned_stages": 2,
    }
    created = client.post("/api/v1/exchanges", json=first, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["conflict"]["slug"] == "yemen-war"
    assert [p["slug"] for p in body["parties"]] == ["houthis", "saudi-arabia"]
    assert [side["name"] for side in body["sides"]] == ["Houthis", "Saudi Arabia"]
    assert (body["planned_stages"], body["terms"][0]["kind"]) == (2, "original")
    unknown = client.post(
        "/api/v1/exchanges",
        json=first | {"slug": "new-war", "sides": [{"key": "a", "name": "Atlantis"},
                                                   {"key": "b", "name": "Lemuria"}]},
        headers=auth,
    )  # fmt: skip
    assert unknown.json()["conflict"] == {"slug": "atlantis-lemuria", "name": "Atlantis-Lemuria"}


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Yemen, April 2023"},
        {"sources": [SOURCE]},
        {"sources": [SOURCE], "title": "Yemen, April 2023"},
    ],
)
def test_an_exchange_patch_that_changes_nothing_is_no_new_version(
    client: TestClient, auth: dict[str, str], session: Session, change: dict[str, object]
) -> None:
    created = client.post(
        "/api/v1/exchanges", json=THREE_PARTIES | {"sources": [SOURCE]}, headers=auth
    )
    etag = created.headers["ETag"]

    same = client.patch(
        "/api/v1/exchanges/yemen-2023", json=change, headers=auth | {"If-Match": etag}
    )

    assert (same.status_code, same.headers["ETag"], same.json()["version"]) == (200, etag, 1)
    revisions = session.exec(select(Revision).where(Revision.entity == "exchange")).all()
    assert [r.action for r in revisions] == ["create"]


def test_a_title_patch_keeps_the_figures_of_the_exchanges_sources(
    client: TestClient, auth: dict[str, str]
) -> None:
    figure = {"received_by": "houthis", "people": 706, "qualifier": "about"}
    claimed = SOURCE | {"announcer": "UN envoy", "figures": [figure]}
    created = client.post(
        "/api/v1/exchanges", json=THREE_PARTIES | {"sources": [claimed]}, headers=auth
    )

    patched = client.patch(
        "/api/v1/exchanges/yemen-2023",
        json={"title": "Yemen, April 2023 (887 agreed)"},
        headers=auth | {"If-Match": created.headers["ETag"]},
    )

    assert patched.status_code == 200
    [source] = client.get("/api/v1/exchanges/yemen-2023").json()["sources"]
    assert [(f["received_by"], f["people"], f["qualifier"]) for f in source["figures"]] == [
        ("houthis", 706, "about")
    ]
