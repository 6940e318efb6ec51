"""A large, realistic synthetic data set for benchmarks and demos.

Rows go in through Core `insert()` with executemany lists in one transaction, so 20,000 stages
take about a second, not minutes.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text

from app.db import metadata

SLUG_PREFIX = "sample-"
FIRST_DAY = dt.date(2022, 3, 1)
LAST_DAY = dt.date(2026, 10, 31)
SEARCH_WORD = "Azovstal"  # in about one stage note in eight: a filter that benchmarks can use
DRAFT_SHARE = 0.05
CONFLICT_SLUG, CONFLICT_NAME = "russia-ukraine-war", "Russia-Ukraine war"  # as the bundled seed

VENUES = ("Istanbul", "Abu Dhabi", "Riyadh", "Doha", "the Belarus border", "the Sumy region")
MEDIATORS = ((), ("UAE",), ("Turkey",), ("Saudi Arabia",), ("Qatar",), ("UAE", "Turkey"))
GROUPS = ("Servicemen", "Soldiers and civilians", "Prisoners of war", "Defenders", "Civilians")
ROUTES = (
    "came home through the Belarus border",
    "were flown home via Abu Dhabi",
    "returned after talks in Istanbul",
    "crossed back in the Sumy region",
    "were handed over with UAE mediation",
    "returned on buses from the border",
)
DETAILS = (
    f"defenders of {SEARCH_WORD} among them",
    "several wounded and seriously ill",
    "medics and National Guard included",
    "civilians held since 2022",
    "the Red Cross was present",
    "names were checked by the Coordination Headquarters",
    "the list was agreed a day before",
    "bodies were handed over separately",
)
PUBLISHERS = (
    ("Coordination Headquarters for POWs", "example.org"),
    ("Russian Defence Ministry", "example.com"),
    ("Zelensky, Telegram", "example.net"),
    ("Example Wire", "example.org"),
    ("Example Daily", "example.com"),
)
EXCHANGE_STATUS_WEIGHTS = {"completed": 60, "in_progress": 25, "stalled": 10, "announced": 5}
STAGE_STATUS_WEIGHTS = {"confirmed": 60, "reported": 30, "disputed": 10}


class SampleDataExists(RuntimeError):
    """The sample slugs are already stored: generate into a fresh database."""


@dataclass
class _ExchangePlan:
    row: dict[str, Any]
    terms: dict[str, Any]
    targets: list[dict[str, Any]]  # what the parties (Ukraine, Russia) are to receive
    start: dt.date
    span_days: int


@dataclass
class _StagePlan:
    exchange: int  # index into the exchange plans
    row: dict[str, Any]
    sides: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)


def _table(name: str) -> Table:
    return metadata.tables[name]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(7, 22), rng.randint(0, 59)), dt.UTC)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _plan_exchange(rng: random.Random, number: int) -> _ExchangePlan:
    total_days = (LAST_DAY - FIRST_DAY).days
    span_days = rng.randint(0, 365)
    start = FIRST_DAY + dt.timedelta(days=rng.randint(0, total_days - span_days))
    agreed_on = max(FIRST_DAY, start - dt.timedelta(days=rng.randint(0, 21)))
    target = 1000 if rng.random() < 0.5 else None
    venue = rng.choice(VENUES)
    created_at = _at(agreed_on, rng)
    deal = "1,000 for 1,000" if target else "all for all"
    row = {
        "slug": f"{SLUG_PREFIX}{number:04d}",
        "title": f"Sample exchange {number}: {deal}, {venue}",
        "description": f"Synthetic exchange agreed in {venue} (generated sample data).",
        "status": _weighted(rng, EXCHANGE_STATUS_WEIGHTS),
        "agreed_on": agreed_on,
        "venue": venue,
        "mediators": list(rng.choice(MEDIATORS)),
        "published": True,
        "version": 1,
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
    }
    terms = {"effective": agreed_on, "kind": "original", "note": ""}
    terms["planned_stages"] = rng.choice((None, 1, 2, 3))
    targets = [{"people": target, "military": None, "civilian": None, "remains": None}] * 2
    return _ExchangePlan(row=row, terms=terms, targets=targets, start=start, span_days=span_days)


def _side_counts(rng: random.Random) -> dict[str, int | None]:
    """Counts returned to one side, honouring the stage_side CHECK constraints."""
    military = None if rng.random() < 0.08 else rng.randint(0, 400)
    civilian = None if rng.random() < 0.1 else (rng.randint(1, 120) if rng.random() < 0.4 else 0)
    people: int | None
    if military is not None and civilian is not None:
        people = military + civilian
    elif rng.random() < 0.5:  # a reported total without the split
        people = (military or 0) + (civilian or 0) + rng.randint(0, 150)
    else:
        people = None
    remains = rng.randint(1, 900) if rng.random() < 0.06 else None
    return {"military": military, "civilian": civilian, "people": people, "remains": remains}


def _status(rng: random.Random) -> dict[str, Any]:
    status = _weighted(rng, STAGE_STATUS_WEIGHTS)
    reason = "Generated sample: the sides' figures differ." if status == "disputed" else None
    return {"status": status, "disputed_reason": reason}


def _releases(stage_id: int, plan: _StagePlan, parties: list[int]) -> list[dict[str, Any]]:
    """What each side received, as releases from the other: living, and remains beside them."""
    rows = []
    for index, counts in enumerate(plan.sides):
        base = {
            "stage_id": stage_id,
            "released_by": parties[1 - index],
            "received_by": parties[index],
            "qualifier": "exact",
            "outside_deal": False,
            "categories": {},
            "date": None,
        }
        rows.append(base | {"position": 2 * index, "kind": "living"} | counts | {"remains": None})
        if counts["remains"] is not None:
            rows.append(
                base
                | {"position": 2 * index + 1, "kind": "remains", "remains": counts["remains"]}
                | dict.fromkeys(("military", "civilian", "people"))
            )
    return rows


def _find_or_insert(connection: Connection, table: Table, row: dict[str, Any]) -> int:
    found = connection.scalars(select(table.c.id).where(table.c.slug == row["slug"])).first()
    if found is not None:
        return int(found)
    return _insert_returning_ids(connection, table, [row])[0]


def _plan_stage(rng: random.Random, index: int, exchange: _ExchangePlan) -> _StagePlan:
    day = exchange.start + dt.timedelta(days=rng.randint(0, exchange.span_days))
    created_at = _at(day, rng)
    returned_a = _side_counts(rng)
    returned_b = dict(returned_a) if rng.random() < 0.7 else _side_counts(rng)
    notes = f"{rng.choice(GROUPS)} {rng.choice(ROUTES)}; {rng.choice(DETAILS)}."
    publisher, domain = rng.choice(PUBLISHERS)
    stage = _StagePlan(
        exchange=index,
        row={
            "date": day,
            **_status(rng),
            "notes": notes,
            "published": rng.random() >= DRAFT_SHARE,
            "version": 1,
            "created_at": created_at,
            "updated_at": created_at,
            "deleted_at": None,
        },
        sides=[returned_a, returned_b],
    )
    people = returned_a["people"]
    stage.source = {
        "position": 0,
        "url": f"https://{domain}/sample/{exchange.row['slug']}/{day.isoformat()}",
        "publisher": publisher,
        "published_at": day,
        "claim": f"{people if people is not None else 'An undisclosed number of'} people returned.",
    }
    return stage


def _insert_returning_ids(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    if not rows:
        return []
    query = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(connection.scalars(query, rows))


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(table), rows)


def generate(engine: Engine, *, exchanges: int = 200, stages: int = 20_000, seed: int = 1) -> None:
    """Insert `exchanges` published sample exchanges and `stages` stages spread over them.

    The same seed gives the same data on every backend. Raises SampleDataExists when any sample
    slug is already stored (the schema must exist: run the migrations first).
    """
    if exchanges < 0 or stages < 0 or (stages and not exchanges):
        raise ValueError("need a non-negative number of stages, and at least one exchange for them")
    rng = random.Random(seed)
    exchange_plans = [_plan_exchange(rng, number) for number in range(1, exchanges + 1)]
    stage_plans = [
        _plan_stage(rng, index % exchanges, exchange_plans[index % exchanges])
        for index in range(stages)
    ]
    for plan in stage_plans:  # an exchange was last touched by its latest stage
        exchange_row = exchange_plans[plan.exchange].row
        exchange_row["updated_at"] = max(exchange_row["updated_at"], plan.row["updated_at"])

    exchange_table = _table("exchange")
    slugs = [plan.row["slug"] for plan in exchange_plans]
    with engine.begin() as connection:
        taken = connection.scalars(
            select(exchange_table.c.slug).where(exchange_table.c.slug.in_(slugs)).limit(1)
        ).first()
        if taken is not None:
            raise SampleDataExists(f"sample data is already stored ({taken}): use a fresh database")
        conflict_id = _find_or_insert(
            connection, _table("conflict"), {"slug": CONFLICT_SLUG, "name": CONFLICT_NAME}
        )
        exchange_ids = _insert_returning_ids(
            connection,
            exchange_table,
            [plan.row | {"conflict_id": conflict_id} for plan in exchange_plans],
        )
        parties = [
            _find_or_insert(connection, _table("party"), {"slug": slug, "name": name})
            for slug, name in (("ukraine", "Ukraine"), ("russia", "Russia"))
        ]
        _insert(
            connection,
            _table("exchange_party"),
            [
                {"exchange_id": exchange_id, "party_id": party_id, "position": position}
                for exchange_id in exchange_ids
                for position, party_id in enumerate(parties)
            ],
        )
        terms_ids = _insert_returning_ids(
            connection,
            _table("terms"),
            [
                {"exchange_id": exchange_id} | plan.terms
                for exchange_id, plan in zip(exchange_ids, exchange_plans, strict=True)
            ],
        )
        _insert(
            connection,
            _table("terms_target"),
            [
                {"terms_id": terms_id, "received_by": party_id, "qualifier": "exact"}
                | {"exchange_id": exchange_id}
                | target
                for terms_id, exchange_id, plan in zip(
                    terms_ids, exchange_ids, exchange_plans, strict=True
                )
                for party_id, target in zip(parties, plan.targets, strict=True)
            ],
        )
        stage_ids = _insert_returning_ids(
            connection,
            _table("stage"),
            [{"exchange_id": exchange_ids[plan.exchange]} | plan.row for plan in stage_plans],
        )
        _insert(
            connection,
            _table("stage_release"),
            [
                release | {"exchange_id": exchange_ids[plan.exchange]}
                for stage_id, plan in zip(stage_ids, stage_plans, strict=True)
                for release in _releases(stage_id, plan, parties)
            ],
        )
        _insert(
            connection,
            _table("source"),
            [
                {"exchange_id": exchange_ids[plan.exchange], "stage_id": stage_id} | plan.source
                for stage_id, plan in zip(stage_ids, stage_plans, strict=True)
            ],
        )
    if engine.dialect.name == "postgresql":
        # After a bulk load the planner has no statistics until autovacuum comes by (it guesses
        # one row a table: the text search's semi-join would read every stage once per stage),
        # and the trigram indexes hold the new rows in a pending list every search reads through.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
