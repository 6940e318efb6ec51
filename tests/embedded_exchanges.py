"""Small exchanges in the v2 write shapes for the embed tests: bodies for bodies, a three-party
swap (with an "about", an "at least" and a release outside the deal), and a disputed stage."""

import datetime as dt
from typing import Any

from sqlmodel import Session

from app.models import Exchange, StageCreate
from tests.factories import SOURCE, make_exchange, stage_data

BODIES = "istanbul-bodies"
YEMEN = "yemen-887"
DISPUTED = "uae-207-195"


def release(by: str, to: str, count: int | None, **fields: Any) -> dict[str, Any]:
    """A release of `count` people (or bodies, with kind="remains") from `by` to `to`."""
    measure = "remains" if fields.get("kind") == "remains" else "people"
    return {"released_by": by, "received_by": to, measure: count, **fields}


def stage(day: dt.date, *releases: dict[str, Any], **overrides: Any) -> StageCreate:
    return stage_data(date=day, sides=None, releases=list(releases), **overrides)


def exchange(session: Session, *stages: StageCreate, **fields: Any) -> Exchange:
    """An exchange in the v2 shape: `parties` as (slug, name) pairs, `targets` per party."""
    parties, targets = fields.pop("parties"), fields.pop("targets")
    terms = {"planned_stages": fields.pop("planned_stages", None), "targets": targets}
    return make_exchange(
        session,
        *stages,
        sides=None,
        planned_stages=None,
        parties=[{"slug": slug, "name": name} for slug, name in parties],
        terms=[terms],
        **fields,
    )


def bodies_for_bodies(session: Session) -> Exchange:
    """A deal of remains, over two days: 6,057 bodies to Ukraine (of 6,000), 21 to Russia."""
    return exchange(
        session,
        stage(
            dt.date(2025, 6, 11),
            release("russia", "ukraine", 1212, kind="remains"),
            release("ukraine", "russia", 1, kind="remains"),
        ),
        stage(
            dt.date(2025, 6, 14),
            release("russia", "ukraine", 4845, kind="remains"),
            release("ukraine", "russia", 20, kind="remains"),
        ),
        slug=BODIES,
        title="Istanbul bodies for bodies",
        conflict={"slug": "russia-ukraine-war", "name": "Russia-Ukraine war"},
        parties=[("ukraine", "Ukraine"), ("russia", "Russia")],
        targets=[{"received_by": "ukraine", "remains": 6000}, {"received_by": "russia"}],
        planned_stages=2,
    )


def yemen(session: Session) -> Exchange:
    """Three parties on the first of three days: about 318 of 706 to the Houthis, 15 of 15 to
    Saudi Arabia (and 4 beside the deal), at least 50 of 166 to the Yemeni government."""
    return exchange(
        session,
        stage(
            dt.date(2023, 4, 14),
            release("saudi-arabia", "houthis", 318, qualifier="about"),
            release("houthis", "saudi-arabia", 15),
            release("houthis", "saudi-arabia", 4, outside_deal=True),
            release("houthis", "yemen-government", 50, qualifier="at_least"),
        ),
        slug=YEMEN,
        title="Yemen 887 detainees",
        conflict={"slug": "yemen-war", "name": "Yemen war"},
        parties=[
            ("houthis", "the Houthis"),
            ("saudi-arabia", "Saudi Arabia"),
            ("yemen-government", "Yemeni government"),
        ],
        targets=[
            {"received_by": "houthis", "people": 706},
            {"received_by": "saudi-arabia", "people": 15},
            {"received_by": "yemen-government", "people": 166},
        ],
        planned_stages=3,
    )


def claimed(announcer: str, speaks_for: str, to: str, people: int) -> dict[str, Any]:
    """A source whose announcer, speaking for `speaks_for`, gave `people` returned to `to`."""
    return SOURCE | {
        "url": f"https://example.org/{speaks_for}",
        "announcer": announcer,
        "speaks_for": speaks_for,
        "figures": [{"received_by": to, "people": people}],
    }


def disputed(session: Session) -> Exchange:
    """Kyiv counts 207 of its people home, Moscow says 195: the tally keeps Kyiv's 207."""
    return exchange(
        session,
        stage(
            dt.date(2024, 1, 31),
            release("russia", "ukraine", 207),
            release("ukraine", "russia", 195),
            sources=[
                claimed("Ukraine's Coordination Headquarters", "ukraine", "ukraine", 207),
                claimed("Russian Defence Ministry", "russia", "ukraine", 195),
            ],
        ),
        slug=DISPUTED,
        title="UAE-mediated 207 for 195",
        conflict={"slug": "russia-ukraine-war", "name": "Russia-Ukraine war"},
        parties=[("ukraine", "Ukraine"), ("russia", "Russia")],
        targets=[],
    )
