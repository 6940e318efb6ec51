"""The read API: exchanges with their tallies in PRODUCT.md's shape, totals, and JSON errors."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import add_stage, make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def test_exchange_after_first_stage(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    response = client.get("/api/v1/exchanges/istanbul-1000-for-1000")
    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["status"], body["stages_count"]) == (
        "istanbul-1000-for-1000",
        "in_progress",
        1,
    )
    assert body["sides"][0] == {
        "key": "a",
        "name": "Ukraine",
        "target": {"people": 1000, "military": None, "civilian": None, "remains": None},
        "returned": {"people": 390, "military": 270, "civilian": 120, "remains": 0},
        "percent": 39.0,
        "remaining": 610,
        "undisclosed": False,
    }
    assert body["updated_at"].endswith("Z") or body["updated_at"].endswith("+00:00")


def test_exchange_lists_published_stages_oldest_first(client: TestClient, session: Session) -> None:
    exchange = make_exchange(session, stage_data(a=(307, 0), date=dt.date(2025, 5, 24)))
    add_stage(session, exchange, stage_data(a=(270, 120), date=dt.date(2025, 5, 23)))
    add_stage(
        session,
        exchange,
        stage_data(a=(1, 1), date=dt.date(2025, 5, 25), published=False, sources=[]),
    )
    stages = client.get("/api/v1/exchanges/istanbul-1000-for-1000").json()["stages"]
    assert [s["date"] for s in stages] == ["2025-05-23", "2025-05-24"]
    assert stages[0]["exchange"] == "istanbul-1000-for-1000"
    assert stages[0]["sides"][0] == {
        "key": "a",
        "military": 270,
        "civilian": 120,
        "people": 390,
        "remains": None,
    }
    assert stages[0]["sources"] == [
        {
            "url": "https://example.org/report",
            "publisher": "Example Wire",
            "announcer": None,
            "speaks_for": None,
            "published_at": None,
            "claim": "Both sides confirmed.",
            "figures": [],
        }
    ]
    # Status is derived: one source without figures reports, it does not confirm.
    assert (stages[0]["published"], stages[0]["version"], stages[0]["status"]) == (
        True,
        1,
        "reported",
    )


def test_list_of_exchanges_carries_each_tally(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    make_exchange(session, slug="announced-only", status="announced")
    body = client.get("/api/v1/exchanges").json()
    assert [(e["slug"], e["sides"][0]["returned"]["people"]) for e in body] == [
        ("istanbul-1000-for-1000", 390),
        ("announced-only", 0),
    ]
    assert "stages" not in body[0]


def test_unknown_slug_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/exchanges/no-such-swap")
    assert response.status_code == 404
    assert response.json() == {"detail": "No exchange with slug 'no-such-swap'"}


def test_totals_one_entry_per_side_name(client: TestClient, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120), b=(300, 0)))
    body = client.get("/api/v1/totals").json()
    # The first API's sums per side name, kept beside the per-conflict totals.
    assert {"sides": body["sides"]} == {
        "sides": [
            {
                "name": "Russia",
                "returned": {"people": 300, "military": 300, "civilian": 0, "remains": 0},
                "undisclosed": False,
                "exchanges_count": 1,
            },
            {
                "name": "Ukraine",
                "returned": {"people": 390, "military": 270, "civilian": 120, "remains": 0},
                "undisclosed": False,
                "exchanges_count": 1,
            },
        ]
    }
    [conflict] = body["conflicts"]
    assert (conflict["slug"], [p["slug"] for p in conflict["parties"]]) == (
        "ukraine-russia",
        ["russia", "ukraine"],  # most exchanges first, then by name
    )
    ukraine = conflict["parties"][1]
    assert (ukraine["people"], ukraine["qualifier"], ukraine["official"]) == (390, "exact", None)


def test_openapi_documents_the_read_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/exchanges", "/api/v1/exchanges/{slug}", "/api/v1/totals"} <= set(paths)
