"""The bundled seed: real exchanges from public reporting, each figure with its source URL.

`app/data/seed.json` is built from the reference data set by `scripts/build_seed.py`. Loading it
is idempotent: official totals already recorded are left alone, and so is an exchange already
stored (by slug) that anyone but the seed has written to. An exchange only the seed ever wrote
is brought up to date, its changed figures recorded as corrections: an upgraded database gains
the new exchanges and the seed's fixes, and keeps every editor's work.
"""

import json
from importlib.resources import files
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app import crud, writes
from app.models import (
    Conflict,
    ExchangeCreate,
    OfficialTotal,
    OfficialTotalWrite,
    Party,
    PartyIn,
)

SEED_ACTOR = crud.SEED_ACTOR
SEED_REASON = writes.SEED_REASON


def bundled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        files("app").joinpath("data/seed.json").read_text(encoding="utf-8")
    )
    return data


def bundled_exchanges(data: dict[str, Any] | None = None) -> list[ExchangeCreate]:
    """The seed's exchanges in the write schema every writer uses."""
    data = data or bundled()
    conflicts = {conflict["slug"]: conflict for conflict in data["conflicts"]}
    exchanges = []
    for item in data["exchanges"]:
        conflict = conflicts[item["conflict"]]
        exchanges.append(
            ExchangeCreate.model_validate(
                item
                | {
                    "conflict": {k: conflict[k] for k in ("slug", "name", "name_uk")},
                    "description": item.get("summary") or "",
                    "summary": None,
                }
            )
        )
    return exchanges


def _adopt_conflicts(session: Session, data: dict[str, Any]) -> None:
    """A conflict the migration made from an exchange's two sides ("Ukraine-Russia") becomes the
    seed's conflict holding the same parties ("Russia-Ukraine war"), so totals never split."""
    for item in data["conflicts"]:
        exists = session.scalar(select(col(Conflict.id)).where(col(Conflict.slug) == item["slug"]))
        if exists is not None:
            continue
        parties = list(session.scalars(select(Party).where(col(Party.slug).in_(item["parties"]))))
        if len(parties) < 2:
            continue
        holding = writes.conflict_holding(session, parties)
        if holding is not None:
            holding.slug, holding.name, holding.name_uk = (
                item["slug"],
                item["name"],
                item["name_uk"],
            )
            session.add(holding)
    session.flush()


def _name_parties(session: Session, data: dict[str, Any]) -> None:
    """Create the seed's parties, and give stored ones the Ukrainian name they lack."""
    for item in data["parties"]:
        party = writes.party_for(session, PartyIn.model_validate(item))
        if party.name_uk is None and item.get("name_uk"):
            party.name_uk = item["name_uk"]
            session.add(party)


def _official_totals(session: Session, data: dict[str, Any]) -> int:
    added = 0
    for item in data["official_totals"]:
        conflict = session.scalars(
            select(Conflict).where(col(Conflict.slug) == item["conflict"])
        ).one()
        total = OfficialTotalWrite.model_validate(
            item | {"people": item["figure"], "note": item.get("note") or "", "reason": SEED_REASON}
        )
        known = session.scalar(
            select(col(OfficialTotal.id)).where(
                col(OfficialTotal.conflict_id) == conflict.id,
                col(OfficialTotal.as_of) == total.as_of,
                col(OfficialTotal.figure) == total.people,
                col(OfficialTotal.url) == total.source.url,
            )
        )
        if known is None:
            writes.add_official_total(session, conflict=conflict, data=total, actor=SEED_ACTOR)
            added += 1
    return added


def load(session: Session) -> writes.SeedReport:
    """Add the bundled exchanges and official totals not stored yet, and revise the exchanges
    only the seed ever wrote (idempotent). The caller commits."""
    data = bundled()
    _name_parties(session, data)
    _adopt_conflicts(session, data)
    report = writes.seed_exchanges(session, exchanges=bundled_exchanges(data), actor=SEED_ACTOR)
    _official_totals(session, data)
    return report
