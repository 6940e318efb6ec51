"""What the data migration must not change: the app's answers for every exchange and the totals.

Shared by scripts/make_v1_fixture.py, which records them into tests/data/v1_answers.json on the
schema at revision 0004, and tests/test_migration_data.py, which computes them again after the
upgrade to head: one extraction, so that the recorded answers and the comparison cannot drift.
Timestamps (updated_at, created_at) and ids are left out: they are not tallies.
"""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app import crud

EXCHANGE_KEYS = ("slug", "title", "status", "stages_count", "sides")
STAGE_KEYS = ("date", "published", "notes", "sides")
SOURCE_KEYS = ("url", "publisher", "published_at", "claim")


def restricted(exchange: dict[str, Any]) -> dict[str, Any]:
    """An exchange's JSON (crud.get_exchange dumped in JSON mode, or the API's answer) cut down to
    its tally: its identity, every field of both sides, and each stage's figures and sources."""
    return {key: exchange[key] for key in EXCHANGE_KEYS} | {
        "stages": [
            {key: stage[key] for key in STAGE_KEYS}
            | {"sources": [{key: s[key] for key in SOURCE_KEYS} for s in stage["sources"]]}
            for stage in exchange["stages"]
        ]
    }


def answers(session: Session, client: TestClient, *, slugs: list[str]) -> dict[str, Any]:
    """The app's answers for these exchange slugs (published or not), and the all-time totals.

    "api" holds, for each slug, the restricted GET /api/v1/exchanges/{slug}, or its status code
    when there is no answer (an unpublished exchange must stay unpublished).
    """
    exchanges: dict[str, Any] = {}
    api: dict[str, Any] = {}
    for slug in slugs:
        detail = crud.get_exchange(session, slug=slug, include_drafts=True)
        exchanges[slug] = None if detail is None else restricted(detail.model_dump(mode="json"))
        response = client.get(f"/api/v1/exchanges/{slug}")
        ok = response.status_code == 200
        api[slug] = restricted(response.json()) if ok else {"status_code": response.status_code}
    return {
        "exchanges": exchanges,
        # The first API's totals per side name (v2 adds per-conflict totals beside them).
        "totals": {"sides": crud.totals(session).model_dump(mode="json")["sides"]},
        "api": api,
        "api_totals": {"sides": client.get("/api/v1/totals").json()["sides"]},
        # Which exchanges the list shows, in its order.
        "api_exchange_slugs": [item["slug"] for item in client.get("/api/v1/exchanges").json()],
    }
