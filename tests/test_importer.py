"""CSV import: exports round-trip, a second import changes nothing, bad cells are refused."""

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from app import crud, exports, seed, writes
from app.cli import cli
from app.db import metadata
from app.importer import (
    STAGE_COLUMNS,
    ImportConflict,
    ImportReport,
    UnreadableFile,
    decode,
    import_csv,
)
from app.models import Exchange, ExchangeCreate, Revision, Stage, StageCreate
from tests.factories import SOURCE, add_stage, make_exchange, stage_data

SLUG = "istanbul-1000-for-1000"
# The first API's layout: the columns before releases had parties.
FIRST_HEADER = [
    "exchange", "stage_id", "date", "status", "side", "side_name",
    "military", "civilian", "people", "remains", "notes", "source_urls", "source_publishers",
    "exchange_title", "source_published_at", "source_claims",
]  # fmt: skip


def row(**cells: str) -> dict[str, str]:
    """Side a's release in the factories' default stage, as the export writes it (before
    stage_id)."""
    return {
        "exchange": SLUG, "stage_id": "", "date": "2025-05-23", "status": "reported",
        "side": "a", "side_name": "Ukraine", "military": "270", "civilian": "120",
        "people": "390", "remains": "", "notes": "", "source_urls": SOURCE["url"],
        "source_publishers": SOURCE["publisher"], "exchange_title": "",
        "source_published_at": "", "source_claims": SOURCE["claim"],
        "released_by": "russia", "released_by_name": "Russia", "received_by": "ukraine",
        "received_by_name": "Ukraine", "kind": "living", "qualifier": "exact",
        "outside_deal": "false", "categories": "", "release_date": "", "disputed_reason": "",
        "conflict": "ukraine-russia", "conflict_name": "Ukraine-Russia",
        "source_announcers": "", "source_speaks_for": "",
    } | cells  # fmt: skip


SIDE_B = {
    "side": "b", "side_name": "Russia", "released_by": "ukraine", "released_by_name": "Ukraine",
    "received_by": "russia", "received_by_name": "Russia",
}  # fmt: skip


def stage_rows(**cells: str) -> list[dict[str, str]]:
    return [row(**cells), row(**(SIDE_B | cells))]


def to_csv(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, header or exports.CSV_HEADER, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def run(session: Session, text: str, *, dry_run: bool = False) -> ImportReport:
    return import_csv(session, text, actor="importer", user_id=None, dry_run=dry_run)


def actions(report: ImportReport) -> list[tuple[str, str, str]]:
    return [(entry.exchange, entry.date, entry.action) for entry in report.entries]


def refusals(report: ImportReport) -> list[tuple[str | None, str]]:
    return [(entry.field, entry.reason) for entry in report.entries if entry.action == "refused"]


def revisions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Revision)) or 0


def snapshots(session: Session) -> list[dict[str, Any]]:
    stages = session.scalars(select(Stage).order_by(col(Stage.id)))
    return [writes.stage_snapshot(session, stage) | {"id": stage.id} for stage in stages]


def tallies(session: Session) -> dict[str, Any]:
    """What readers see: every exchange's parties, tally, sides and stages, and the all-time
    totals (per conflict, whatever order the conflicts were created in)."""
    totals = crud.totals(session).model_dump()
    seen: dict[str, Any] = {
        "conflicts": {conflict["slug"]: conflict for conflict in totals["conflicts"]},
        "sides": totals["sides"],
    }
    for slug in sorted(crud.exchange_slugs(session)):
        exchange = crud.get_exchange(session, slug=slug)
        assert exchange is not None
        seen[slug] = {
            "title": exchange.title,
            "conflict": exchange.conflict,
            "parties": exchange.parties,
            "terms": exchange.terms,
            "tally": exchange.tally,
            "sides": exchange.sides,
            "stages_count": exchange.stages_count,
            "stages": [
                stage.model_dump(exclude={"id", "version", "updated_at"})
                for stage in exchange.stages
            ],
        }
    return seen


def all_time_sums(seen: dict[str, Any]) -> dict[str, Any]:
    """The all-time totals of `tallies` without the official totals and exchange counts."""
    left_out = {"official", "exchanges_count"}
    return {
        slug: [{k: v for k, v in party.items() if k not in left_out} for party in c["parties"]]
        for slug, c in seen["conflicts"].items()
    }


def release(released_by: str, received_by: str, **fields: Any) -> dict[str, Any]:
    return {"released_by": released_by, "received_by": received_by, **fields}


YEMEN = {
    "slug": "yemen-swap",
    "title": "Yemen swap",
    "status": "completed",
    "agreed_on": dt.date(2023, 3, 20),
    "conflict": {"slug": "yemen-war", "name": "War in Yemen"},
    "parties": [
        {"slug": "houthis", "name": "Houthis"},
        {"slug": "yemen-government", "name": "Government of Yemen"},
        {"slug": "saudi-arabia", "name": "Saudi Arabia"},
    ],
    "terms": [
        {
            "effective": dt.date(2023, 3, 20),
            "targets": [
                {"received_by": "houthis", "people": 706},
                {"received_by": "yemen-government", "people": 181},
            ],
        }
    ],
}
ICRC = {
    "url": "https://icrc.example/flights",
    "publisher": "ICRC",
    "announcer": "ICRC",
    "speaks_for": "independent",
    "claim": "Flights between Sanaa and Aden.",
}
SPA = SOURCE | {
    "announcer": "Saudi Press Agency",
    "speaks_for": "saudi-arabia",
    "published_at": dt.date(2023, 4, 15),
}
YEMEN_STAGES = [
    {
        "date": dt.date(2023, 4, 14),
        "releases": [
            release("yemen-government", "houthis", people=250, qualifier="about"),
            release(
                "houthis",
                "yemen-government",
                people=70,
                qualifier="about",
                categories={"journalists": 4},
            ),
        ],
        "sources": [ICRC, SOURCE],
    },
    {
        "date": dt.date(2023, 4, 15),
        "releases": [
            release("saudi-arabia", "houthis", people=237, qualifier="at_least"),
            release(
                "houthis",
                "saudi-arabia",
                military=16,
                civilian=3,
                categories={"saudi_nationals": 16, "sudanese_nationals": 3},
            ),
            release(
                "houthis", "saudi-arabia", kind="remains", remains=2, date=dt.date(2023, 4, 16)
            ),
        ],
        "sources": [SPA],
    },
    {
        "date": dt.date(2023, 4, 17),
        "notes": "Freed unilaterally the day after the deal was done.",
        "releases": [release("saudi-arabia", "houthis", people=104, outside_deal=True)],
        "sources": [SOURCE],
    },
]


@pytest.fixture
def exchanges(session: Session) -> None:
    """Undisclosed counts, remains, a reported total without its split, several sources, a
    draft that no export shows, a stage disputed by hand, and a three-party exchange with
    qualifiers, categories, a release on its own date and one outside the deal."""
    istanbul = make_exchange(
        session, stage_data(a=(270, 120), remains=(5, None)), title="Istanbul 1,000 for 1,000"
    )
    add_stage(session, istanbul, stage_data(a=(307, None), date=dt.date(2025, 5, 24)))
    add_stage(
        session,
        istanbul,
        stage_data(a=(None, None), people=(215, None), date=dt.date(2025, 5, 25), notes="Day 3"),
    )
    add_stage(
        session,
        istanbul,
        stage_data(a=(999, 0), date=dt.date(2025, 5, 26), published=False, sources=[]),
    )
    make_exchange(
        session,
        stage_data(
            a=(10, 0),
            b=(None, 2),
            date=dt.date(2024, 1, 3),
            status="disputed",
            sources=[
                SOURCE | {"published_at": dt.date(2024, 1, 3)},
                SOURCE | {"url": "https://tass.example/1", "publisher": "TASS", "claim": ""},
            ],
        ),
        slug="belarus-swap",
        title="Belarus swap",
        sides=[{"key": "a", "name": "Ukraine"}, {"key": "b", "name": "Belarus"}],
    )
    data = ExchangeCreate.model_validate(YEMEN | {"stages": YEMEN_STAGES})
    writes.create_exchange(session, data=data, actor="test")
    session.commit()


def wipe(session: Session, engine: Engine) -> None:
    session.close()
    metadata.drop_all(engine)
    metadata.create_all(engine)


def test_the_first_api_columns_keep_their_places() -> None:
    header = exports.CSV_HEADER
    assert header == [
        *FIRST_HEADER,
        "released_by", "released_by_name", "received_by", "received_by_name", "kind",
        "qualifier", "outside_deal", "categories", "release_date", "disputed_reason",
        "conflict", "conflict_name", "source_announcers", "source_speaks_for",
        "source_figures", "exchange_parties", "exchange_terms",
    ]  # fmt: skip


@pytest.mark.usefixtures("exchanges")
def test_the_export_has_one_row_per_release(client: TestClient) -> None:
    istanbul = rows_of(client.get(f"/api/v1/exchanges/{SLUG}/stages.csv").text)
    yemen = rows_of(client.get("/api/v1/exchanges/yemen-swap/stages.csv").text)

    first_api = ("stage_id", "side", "side_name", "military", "civilian", "people", "remains")
    parties = ("released_by", "received_by", "kind")
    assert [tuple(r[name] for name in (*first_api, *parties)) for r in istanbul] == [
        ("1", "a", "Ukraine", "270", "120", "390", "", "russia", "ukraine", "living"),
        ("1", "a", "Ukraine", "", "", "", "5", "russia", "ukraine", "remains"),
        ("1", "b", "Russia", "270", "120", "390", "", "ukraine", "russia", "living"),
        ("2", "a", "Ukraine", "307", "", "", "", "russia", "ukraine", "living"),
        ("2", "b", "Russia", "307", "", "", "", "ukraine", "russia", "living"),
        ("3", "a", "Ukraine", "", "", "215", "", "russia", "ukraine", "living"),
        ("3", "b", "Russia", "", "", "", "", "ukraine", "russia", "living"),
    ]
    assert {(r["qualifier"], r["outside_deal"], r["categories"]) for r in istanbul} == {
        ("exact", "false", "")
    }
    assert {(r["conflict"], r["conflict_name"], r["exchange_title"]) for r in istanbul} == {
        ("ukraine-russia", "Ukraine-Russia", "Istanbul 1,000 for 1,000")
    }
    assert [(r["stage_id"], r["people"], r["qualifier"], r["outside_deal"]) for r in yemen] == [
        ("6", "250", "about", "false"),
        ("6", "70", "about", "false"),
        ("7", "237", "at_least", "false"),
        ("7", "19", "exact", "false"),
        ("7", "", "exact", "false"),
        ("8", "104", "exact", "true"),
    ]
    assert yemen[4] == {
        "exchange": "yemen-swap", "stage_id": "7", "date": "2023-04-15", "status": "reported",
        "side": "", "side_name": "", "military": "", "civilian": "", "people": "",
        "remains": "2", "notes": "", "source_urls": "https://example.org/report",
        "source_publishers": "Example Wire", "exchange_title": "Yemen swap",
        "source_published_at": "2023-04-15", "source_claims": "Both sides confirmed.",
        "released_by": "houthis", "released_by_name": "Houthis",
        "received_by": "saudi-arabia", "received_by_name": "Saudi Arabia", "kind": "remains",
        "qualifier": "exact", "outside_deal": "false", "categories": "",
        "release_date": "2023-04-16", "disputed_reason": "", "conflict": "yemen-war",
        "source_figures": "[[]]",
        "exchange_parties": (
            '[{"slug":"houthis","name":"Houthis"},{"slug":"yemen-government",'
            '"name":"Government of Yemen"},{"slug":"saudi-arabia","name":"Saudi Arabia"}]'
        ),
        "exchange_terms": (
            '[{"effective":"2023-03-20","kind":"original","targets":[{"received_by":"houthis",'
            '"people":706},{"received_by":"yemen-government","people":181}]}]'
        ),
        "conflict_name": "War in Yemen", "source_announcers": "Saudi Press Agency",
        "source_speaks_for": "saudi-arabia",
    }  # fmt: skip
    assert [r["categories"] for r in yemen] == [
        "", "journalists=4", "", "saudi_nationals=16; sudanese_nationals=3", "", "",
    ]  # fmt: skip
    assert (yemen[0]["source_announcers"], yemen[0]["source_speaks_for"]) == (
        "ICRC; ",
        "independent; ",
    )


@pytest.mark.postgresql
@pytest.mark.usefixtures("exchanges")
def test_export_imported_into_an_empty_database_gives_the_same_tallies(
    client: TestClient, session: Session, engine: Engine
) -> None:
    exported = client.get("/api/v1/stages.csv").text
    before = tallies(session)
    wipe(session, engine)

    report = run(session, exported)

    assert report.summary() == "7 created, 0 updated, 0 unchanged, 0 refused"
    assert report.exchanges_created == 3
    assert tallies(session) == before
    yemen = crud.get_exchange(session, slug="yemen-swap")
    assert yemen is not None
    assert [(p.received_by, p.people, p.qualifier, p.outside_deal.people) for p in yemen.tally] == [
        ("houthis", 487, "at_least", 104),
        ("yemen-government", 70, "about", 0),
        ("saudi-arabia", 19, "exact", 0),
    ]
    assert [party.target.people for party in yemen.tally] == [706, 181, None]
    assert session.scalar(select(Exchange.status).where(Exchange.slug == SLUG)) == "completed"


@pytest.mark.usefixtures("exchanges")
def test_titles_conflicts_and_parties_come_from_the_file(session: Session, engine: Engine) -> None:
    slugs = sorted(crud.exchange_slugs(session))
    details = [crud.get_exchange(session, slug=slug) for slug in slugs]
    stages = [stage for detail in details if detail is not None for stage in detail.stages]
    exported = exports.stages_csv(stages, exports.exchange_names(session, slugs=slugs))
    wipe(session, engine)

    run(session, exported)

    names = exports.exchange_names(session, slugs=slugs)
    assert [len(names[slug].terms) for slug in slugs] == [1, 1, 1]
    assert {
        slug: (n.title, n.conflict, n.conflict_name, tuple((p.slug, p.name) for p in n.parties))
        for slug, n in names.items()
    } == {
        SLUG: (
            "Istanbul 1,000 for 1,000", "ukraine-russia", "Ukraine-Russia",
            (("ukraine", "Ukraine"), ("russia", "Russia")),
        ),
        "belarus-swap": (
            "Belarus swap", "ukraine-belarus", "Ukraine-Belarus",
            (("ukraine", "Ukraine"), ("belarus", "Belarus")),
        ),
        "yemen-swap": (
            "Yemen swap", "yemen-war", "War in Yemen",
            (("houthis", "Houthis"), ("yemen-government", "Government of Yemen"),
             ("saudi-arabia", "Saudi Arabia")),
        ),
    }  # fmt: skip


@pytest.mark.usefixtures("exchanges")
def test_second_import_into_an_empty_database_changes_nothing(
    client: TestClient, session: Session, engine: Engine
) -> None:
    # Newest first: the new database gives the stages other ids than the file names.
    exported = client.get("/api/v1/stages.csv").text
    wipe(session, engine)
    run(session, exported)
    stored, history = snapshots(session), revisions(session)

    report = run(session, exported)

    assert report.summary() == "0 created, 0 updated, 7 unchanged, 0 refused"
    assert (snapshots(session), revisions(session)) == (stored, history)


@pytest.mark.postgresql
@pytest.mark.usefixtures("exchanges")
def test_reimporting_an_export_into_its_own_database_changes_nothing(
    client: TestClient, session: Session
) -> None:
    exported = client.get("/api/v1/stages.csv").text
    stored, history = snapshots(session), revisions(session)

    report = run(session, exported)

    assert [(entry.stage_id, entry.action) for entry in report.entries] == [
        (3, "unchanged"), (2, "unchanged"), (1, "unchanged"), (5, "unchanged"),
        (8, "unchanged"), (7, "unchanged"), (6, "unchanged"),
    ]  # fmt: skip
    assert (snapshots(session), revisions(session)) == (stored, history)


@pytest.mark.usefixtures("exchanges")
def test_dry_run_reports_the_same_actions_and_saves_nothing(
    client: TestClient, session: Session, engine: Engine
) -> None:
    exported = client.get("/api/v1/stages.csv").text
    wipe(session, engine)

    dry = run(session, exported, dry_run=True)

    assert dry.summary() == "7 created, 0 updated, 0 unchanged, 0 refused (dry run: nothing saved)"
    assert {entry.stage_id for entry in dry.entries} == {None}
    assert (crud.exchange_slugs(session), revisions(session)) == (set(), 0)
    assert actions(run(session, exported)) == actions(dry)


@pytest.mark.postgresql
def test_the_whole_seed_round_trips_with_its_terms_and_figures(
    client: TestClient, session: Session, engine: Engine
) -> None:
    seed.load(session)
    session.commit()
    exported = client.get("/api/v1/stages.csv").text
    before = tallies(session)
    wipe(session, engine)

    report = run(session, exported)

    assert report.summary() == "96 created, 0 updated, 0 unchanged, 0 refused"
    after = tallies(session)
    # Not stage data, so not in the file: an exchange without stages (agreed, none held yet),
    # and the official running totals; the all-time sums are the same.
    assert sorted(before.keys() - after.keys()) == ["2025-istanbul-3-1200"]
    exchanges = after.keys() - {"conflicts", "sides"}
    assert {slug: before[slug] for slug in exchanges} == {slug: after[slug] for slug in exchanges}
    assert all_time_sums(after) == all_time_sums(before)
    disputed = crud.get_exchange(session, slug="2024-01-31-uae-207-195")
    assert disputed is not None
    [stage] = disputed.stages
    assert stage.status == "disputed"
    assert [(s.announcer, f.received_by, f.people) for s in stage.sources for f in s.figures] == [
        ("Russian Defence Ministry", "russia", 195),
        ("President Zelensky / Coordination Headquarters", "ukraine", 207),
        ("Russian Defence Ministry", "ukraine", 195),
    ]
    assert run(session, exported).summary() == "0 created, 0 updated, 96 unchanged, 0 refused"


def test_the_seeds_three_party_exchange_round_trips(
    client: TestClient, session: Session, engine: Engine
) -> None:
    seed.load(session)
    session.commit()
    slug = "2023-04-yemen-887-deal"
    exported = client.get(f"/api/v1/exchanges/{slug}/stages.csv").text

    again = run(session, exported)
    wipe(session, engine)
    imported = run(session, exported)

    assert again.summary() == "0 created, 0 updated, 4 unchanged, 0 refused"
    assert imported.summary() == "4 created, 0 updated, 0 unchanged, 0 refused"
    yemen = crud.get_exchange(session, slug=slug)
    assert yemen is not None
    assert yemen.conflict is not None
    assert (
        (yemen.conflict.slug, yemen.conflict.name),
        [(p.slug, p.name) for p in yemen.parties],
    ) == (
        ("yemen-war", "War in Yemen"),
        [
            ("houthis", "Houthis (Ansar Allah)"),
            ("yemen-government", "Government of Yemen (internationally recognised)"),
            ("saudi-arabia", "Saudi Arabia (Saudi-led coalition)"),
        ],
    )
    assert [
        (p.received_by, p.people, p.qualifier, p.outside_deal.people, p.undisclosed)
        for p in yemen.tally
    ] == [
        ("houthis", 587, "at_least", 104, True),
        ("yemen-government", 70, "at_least", 0, True),
        ("saudi-arabia", 20, "exact", 0, False),
    ]
    assert [(side.key, side.returned.people) for side in yemen.sides] == [("a", 587), ("b", 70)]
    outside = [r for stage in yemen.stages for r in stage.releases if r.outside_deal]
    assert [(r.released_by, r.received_by, r.people) for r in outside] == [
        ("saudi-arabia", "houthis", 104)
    ]
    assert run(session, exported).summary() == "0 created, 0 updated, 4 unchanged, 0 refused"


RELEASES = [
    release("russia", "ukraine", military=1000, qualifier="at_least"),
    release("russia", "ukraine", people=31, outside_deal=True, categories={"wounded": 31}),
    release("russia", "ukraine", kind="remains", remains=757, qualifier="about"),
    release(
        "ukraine", "russia", military=100, civilian=15, categories={"women": 15, "minors": 2},
        date=dt.date(2025, 5, 22),
    ),
]  # fmt: skip
RELEASE_CELLS = ("military", "people", "remains", "kind", "qualifier", "outside_deal")


def test_qualifiers_outside_deal_remains_categories_and_dates_round_trip(
    client: TestClient, session: Session, engine: Engine
) -> None:
    stage = {"date": dt.date(2025, 5, 23), "releases": RELEASES, "sources": [SOURCE]}
    istanbul = make_exchange(session, StageCreate.model_validate(stage))
    exported = client.get("/api/v1/stages.csv").text
    [stored] = crud.list_stages(session, exchange=istanbul)

    again = run(session, exported)
    wipe(session, engine)
    imported = run(session, exported)

    assert [
        (*(r[name] for name in RELEASE_CELLS), r["categories"], r["release_date"])
        for r in rows_of(exported)
    ] == [
        ("1000", "", "", "living", "at_least", "false", "", ""),
        ("", "31", "", "living", "exact", "true", "wounded=31", ""),
        ("", "", "757", "remains", "about", "false", "", ""),
        ("100", "115", "", "living", "exact", "false", "women=15; minors=2", "2025-05-22"),
    ]
    assert (again.summary(), imported.summary()) == (
        "0 created, 0 updated, 1 unchanged, 0 refused",
        "1 created, 0 updated, 0 unchanged, 0 refused",
    )
    copy = crud.get_exchange(session, slug=SLUG)
    assert copy is not None
    [stage] = copy.stages
    assert stage.releases == stored.releases
    assert [
        (r.military, r.people, r.remains, r.qualifier, r.outside_deal, r.categories, r.date)
        for r in stage.releases
    ] == [
        (1000, None, None, "at_least", False, {}, None),
        (None, 31, None, "exact", True, {"wounded": 31}, None),
        (None, None, 757, "about", False, {}, None),
        (100, 115, None, "exact", False, {"women": 15, "minors": 2}, dt.date(2025, 5, 22)),
    ]
    [ukraine, russia] = copy.tally
    assert (ukraine.qualifier, ukraine.military, ukraine.remains, ukraine.outside_deal.people) == (
        "at_least", 1000, 757, 31
    )  # fmt: skip
    assert (russia.qualifier, russia.people) == ("exact", 115)


def test_a_stage_without_releases_round_trips(
    client: TestClient, session: Session, engine: Engine
) -> None:
    nothing = {"date": dt.date(2025, 5, 24), "releases": [], "sources": [SOURCE]}
    make_exchange(session, stage_data(), StageCreate.model_validate(nothing))
    exported = client.get("/api/v1/stages.csv").text
    only = rows_of(exported)[0]

    again = run(session, exported)
    wipe(session, engine)
    imported = run(session, exported)
    alone = run(session, to_csv([only | {"exchange": "nothing-yet", "exchange_parties": ""}]))

    assert (only["stage_id"], only["released_by"], only["people"], only["side"]) == (
        "2",
        "",
        "",
        "",
    )
    assert (again.summary(), imported.summary()) == (
        "0 created, 0 updated, 2 unchanged, 0 refused",
        "2 created, 0 updated, 0 unchanged, 0 refused",
    )
    [stage, _] = crud.list_stage_rows(session, exchange_id=1)[::-1]
    assert (stage.date, writes.stage_snapshot(session, stage)["releases"]) == (nothing["date"], [])
    assert refusals(alone) == [
        (
            "received_by",
            "received_by: no release in the file names the parties of the new nothing-yet",
        )
    ]


def test_a_changed_figure_updates_the_stage_with_a_reason(session: Session) -> None:
    make_exchange(session, stage_data())
    rows = stage_rows(notes="Day 1")
    rows[0] |= {"military": "280", "people": "400"}
    text = to_csv(rows)

    dry = run(session, text, dry_run=True)
    report = run(session, text)

    assert [entry.describe() for entry in report.entries] == [
        f"lines 2-3, {SLUG}, 2025-05-23: update: stage 1: notes, releases changed"
    ]
    assert actions(dry) == actions(report)
    [side_a, side_b] = crud.get_exchange(session, slug=SLUG).sides  # type: ignore[union-attr]
    assert (side_a.returned.people, side_b.returned.people) == (400, 390)
    [latest, _] = writes.history(session, entity="stage", entity_id=1)
    assert (latest.action, latest.actor, latest.reason) == ("update", "importer", "CSV import")


def test_announcers_come_from_the_file_and_figures_stay_as_stored(session: Session) -> None:
    figure = {"received_by": "ukraine", "military": 270, "civilian": 120}
    claimed = SOURCE | {"announcer": "Ministry", "speaks_for": "russia", "figures": [figure]}
    make_exchange(session, stage_data(sources=[claimed]))
    text = to_csv(stage_rows(source_announcers="Russian Defence Ministry"))

    report = run(session, text)

    assert [entry.reason for entry in report.entries] == ["stage 1: sources changed"]
    [source] = writes.stage_snapshot(session, session.get(Stage, 1))["sources"]  # type: ignore[arg-type]
    assert (source["announcer"], source["speaks_for"]) == ("Russian Defence Ministry", None)
    assert source["figures"] == [
        {"received_by": "ukraine", "kind": "living", "military": 270, "civilian": 120,
         "people": 390, "remains": None, "qualifier": "exact"},
    ]  # fmt: skip


NOT_A_NUMBER = "must be a whole number or empty, not"
AT_LEAST_0 = "Input should be greater than or equal to 0"
AT_MOST = "Input should be less than or equal to 100000"
REMAINS_ROW = {"kind": "remains", "military": "", "civilian": "", "people": ""}


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        ({"military": "-5"}, "military", f"military (line 2): {AT_LEAST_0}"),
        ({"military": "12.5"}, "military", f"military (line 2): {NOT_A_NUMBER} '12.5'"),
        ({"civilian": "abc"}, "civilian", f"civilian (line 2): {NOT_A_NUMBER} 'abc'"),
        (REMAINS_ROW | {"remains": "100001"}, "remains", f"remains (line 2): {AT_MOST}"),
        pytest.param(
            REMAINS_ROW | {"remains": "9" * 5000},
            "remains",
            f"remains (line 2): {AT_MOST}",
            marks=pytest.mark.postgresql,
        ),
        (
            {"people": "391"},
            "people",
            "people (line 2): people (391) must equal military + civilian (390)",
        ),
        (
            {"remains": "3"},
            "remains",
            "remains (line 2): a living row has no remains: give them a row of kind remains",
        ),
        (
            {"received_by": "belarus"},
            "received_by",
            f"received_by (line 2): belarus is not a party of {SLUG} (russia, ukraine)",
        ),
        (
            {"released_by": "Russia"},
            "released_by",
            "released_by (line 2): must be a party's slug like ukraine, not 'Russia'",
        ),
        (
            {"released_by": "ukraine"},
            "received_by",
            "received_by (line 2): a party cannot release people to itself",
        ),
        (
            {"qualifier": "roughly"},
            "qualifier",
            "qualifier (line 2): 'roughly': Input should be 'exact', 'about' or 'at_least'",
        ),
        (
            {"outside_deal": "maybe"},
            "outside_deal",
            "outside_deal (line 2): 'maybe': Input should be a valid boolean, unable to"
            " interpret input",
        ),
        (
            {"kind": "bodies"},
            "kind",
            "kind (line 2): 'bodies': Input should be 'living' or 'remains'",
        ),
        (
            {"categories": "women 15"},
            "categories",
            "categories (line 2): must be name=count pairs separated by '; ', not 'women 15'",
        ),
        (
            {"categories": "women=x"},
            "categories",
            f"categories (line 2): {NOT_A_NUMBER} 'x'",
        ),
        (
            {"categories": "women=1; women=2"},
            "categories",
            "categories (line 2): 'women' is given twice",
        ),
        (
            {"categories": "women=391"},
            "categories",
            "categories (line 2): category 'women' (391) is more than the total (390)",
        ),
        (
            {"release_date": "22.05.2025"},
            "release_date",
            "release_date (line 2): must be a date as YYYY-MM-DD, not '22.05.2025'",
        ),
        (
            {"release_date": "2013-12-31"},
            "release_date",
            "release_date (line 2): swaps tracked here start in 2014",
        ),
        (
            {"source_urls": "javascript:x"},
            "source_urls",
            "source_urls: 'javascript:x': must be an http:// or https:// address",
        ),
        (
            {"source_urls": "https://example.org/1 https://example.org/2"},
            "source_publishers",
            "source_publishers: 1 value(s) for 2 source URL(s)",
        ),
        (
            {
                "source_urls": "https://example.org/1 https://example.org/2",
                "source_publishers": "A; B",
                "source_published_at": "; ",
                "source_claims": "a\nb",
            },
            "source_announcers",
            "source_announcers: 1 value(s) for 2 source URL(s)",
        ),
        (
            {"source_published_at": "23.05.2025"},
            "source_published_at",
            "source_published_at: must be a date as YYYY-MM-DD, not '23.05.2025'",
        ),
        (
            {"status": "rumoured"},
            "status",
            "status: 'rumoured': Input should be 'reported', 'confirmed' or 'disputed'",
        ),
        pytest.param(
            {"disputed_reason": "x" * 2001},
            "disputed_reason",
            f"disputed_reason: {'x' * 40 + '…'!r}: String should have at most 2000 characters",
            marks=pytest.mark.postgresql,
        ),
        (
            {"conflict": "Ukraine and Russia"},
            "conflict",
            "conflict (line 2): must be a slug like russia-ukraine-war, not 'Ukraine and Russia'",
        ),
        pytest.param(
            {"notes": "a\x00b"},
            "notes",
            "notes (line 2): contains a NUL character",
            marks=pytest.mark.postgresql,
        ),
        (
            {"source_figures": "[[{"},
            "source_figures",
            "source_figures: is not JSON: Expecting property name enclosed in double quotes:"
            " line 1 column 4 (char 3)",
        ),
        (
            {"source_figures": '{"a": 1}'},
            "source_figures",
            "source_figures: must be a JSON list [...]",
        ),
        (
            {"source_figures": "[[], []]"},
            "source_figures",
            "source_figures: 2 list(s) of figures for 1 source URL(s)",
        ),
        (
            {"source_figures": '[[{"received_by": "ukraine", "people": -1}]]'},
            "source_figures",
            f"source_figures: {AT_LEAST_0}",
        ),
        (
            {"source_figures": '[[{"received_by": "belarus", "people": 1}]]'},
            "source_figures",
            f"source_figures: belarus is not a party of {SLUG} (russia, ukraine)",
        ),
    ],
)
def test_a_bad_cell_refuses_its_stage_and_changes_nothing(
    session: Session, cells: dict[str, str], field: str, reason: str
) -> None:
    make_exchange(session, stage_data())
    stored, history = snapshots(session), revisions(session)
    rows = stage_rows()
    for changed in rows if set(cells) <= set(STAGE_COLUMNS) else rows[:1]:
        changed |= cells

    report = run(session, to_csv(rows))

    [entry] = report.entries
    assert (entry.action, entry.field, entry.reason) == ("refused", field, reason)
    assert (snapshots(session), revisions(session)) == (stored, history)


@pytest.mark.parametrize(
    ("rows", "field", "reason"),
    [
        ([row(date="2025-13-01"), row(date="2025-13-01", **SIDE_B)], "date",
         "date (line 2): must be a date as YYYY-MM-DD, not '2025-13-01'"),
        ([row(date="2013-05-23"), row(date="2013-05-23", **SIDE_B)], "date",
         "date: swaps tracked here start in 2014"),
        ([row(stage_id="x"), row(stage_id="x", **SIDE_B)], "stage_id",
         "stage_id (line 2): must be a stage number, not 'x'"),
        ([row(exchange="Bad Slug"), row(exchange="Bad Slug", **SIDE_B)], "exchange",
         "exchange: must be a slug like istanbul-1000-for-1000, not 'Bad Slug'"),
        ([row(), row(notes="other", **SIDE_B)], "notes",
         "notes (line 3): differs from line 2 of the same stage"),
        ([row(), row(**SIDE_B | {"released_by": "", "received_by": "", "side": ""})],
         "released_by", "released_by (line 3): must be a party's slug like ukraine, not ''"),
        ([row(), row(**SIDE_B | {"received_by_name": "x" * 121})], "received_by_name",
         f"received_by_name: {'x' * 40 + '…'!r}: String should have at most 120 characters"),
        (stage_rows(source_urls="", source_publishers="", source_claims=""), "source_urls",
         "source_urls: a published stage needs at least one source"),
        (stage_rows(exchange_terms='[{"kind": "sometimes"}]'), "exchange_terms",
         "exchange_terms: 'sometimes': Input should be 'original' or 'amendment'"),
        (stage_rows(exchange_terms='[{"targets": [{"received_by": "belarus", "people": 3}]}]'),
         "exchange_terms", f"exchange_terms: belarus is not a party of {SLUG} (russia, ukraine)"),
        (stage_rows(exchange_terms="x"), "exchange_terms",
         "exchange_terms: is not JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)  # fmt: skip
def test_a_bad_stage_is_refused(
    session: Session, rows: list[dict[str, str]], field: str, reason: str
) -> None:
    report = run(session, to_csv(rows))

    assert [(entry.action, entry.field, entry.reason) for entry in report.entries] == [
        ("refused", field, reason)
    ]
    assert (crud.exchange_slugs(session), revisions(session)) == (set(), 0)


@pytest.mark.parametrize(
    ("left_out", "missing"),
    [
        (["remains", "civilian"], "civilian, remains"),
        (["received_by"], "received_by"),
        (["side", "released_by", "received_by"], "released_by, received_by"),
    ],
)
def test_a_missing_column_refuses_the_file(
    session: Session, left_out: list[str], missing: str
) -> None:
    make_exchange(session, stage_data())
    stored, history = snapshots(session), revisions(session)
    header = [name for name in exports.CSV_HEADER if name not in left_out]

    report = run(session, to_csv(stage_rows(military="1"), header))

    [entry] = report.entries
    assert (entry.lines, entry.action, entry.field) == ((1,), "refused", missing)
    assert entry.describe() == (
        f"line 1: refused: missing required column(s): {missing}; nothing imported"
    )
    assert report.summary() == "0 created, 0 updated, 0 unchanged, 1 refused"
    assert (snapshots(session), revisions(session)) == (stored, history)


def test_a_repeated_column_refuses_the_file(session: Session) -> None:
    text = to_csv(stage_rows()).replace("notes,", "date,", 1)

    [entry] = run(session, text).entries

    assert (entry.field, entry.reason) == ("date", "repeated column(s): date; nothing imported")


def test_valid_stages_are_saved_beside_refused_ones(session: Session) -> None:
    text = to_csv(
        [
            row(exchange="new-swap", conflict="", conflict_name=""),
            *stage_rows(exchange="new-swap", date="2025-05-24", military="x"),
            row(exchange="new-swap", conflict="", conflict_name="", **SIDE_B),
        ]
    )

    report = run(session, text)

    assert [(entry.lines, entry.action, entry.reason) for entry in report.entries] == [
        ((2, 5), "create", "new stage in a new exchange"),
        ((3, 4), "refused", "military (line 3): must be a whole number or empty, not 'x'"),
    ]
    assert report.entries[0].describe().startswith("lines 2, 5, new-swap, 2025-05-23: create")
    assert crud.side_names(session) == {("new-swap", "a"): "Ukraine", ("new-swap", "b"): "Russia"}
    [new] = exports.exchange_names(session, slugs=["new-swap"]).values()
    # No conflict in the file: the one holding its parties, else one named after them.
    assert (new.title, new.conflict, new.conflict_name) == (
        "new-swap", "ukraine-russia", "Ukraine-Russia"
    )  # fmt: skip
    assert [(p.slug, p.name) for p in new.parties] == [("ukraine", "Ukraine"), ("russia", "Russia")]


def test_a_new_exchanges_parties_are_in_the_order_they_first_receive(session: Session) -> None:
    def line(date: str, released_by: str, received_by: str, side: str = "") -> dict[str, str]:
        names = {"released_by_name": released_by.title(), "received_by_name": received_by.title()}
        return row(exchange="three", date=date, released_by=released_by, received_by=received_by,
                   side=side, side_name="", conflict="", **names)  # fmt: skip

    text = to_csv(
        [
            line("2025-05-25", "c", "a"),  # newest first, as the timeline's export
            line("2025-05-24", "b", "c"),
            line("2025-05-24", "d", "a"),
            line("2025-05-23", "a", "b"),
        ]
    )

    report = run(session, text)

    assert report.summary() == "3 created, 0 updated, 0 unchanged, 0 refused"
    [three] = exports.exchange_names(session, slugs=["three"]).values()
    assert [p.slug for p in three.parties] == ["b", "c", "a", "d"]


@pytest.mark.parametrize(
    ("cell", "defused"),
    [('=HYPERLINK("http://evil.example","x")', True), ("+1", True), ("-Ukraine", True),
     ("@SUM(A1)", True), ("'=already quoted", True),
     ("''@twice", True), ("'plain", False), ("plain", False),
     ("x  =1", False), ("  =1+1", True), (" @SUM(A1)", True), ("\u00a0-2", True),
     ("' =quoted after a space", True), ("  'text", False)],
)  # fmt: skip
def test_a_defused_cell_imports_as_its_original_text(
    client: TestClient, session: Session, engine: Engine, cell: str, defused: bool
) -> None:
    make_exchange(
        session,
        stage_data(
            notes=cell,
            disputed_reason=cell,
            sources=[SOURCE | {"publisher": cell, "claim": cell, "announcer": cell}],
        ),
        sides=[{"key": "a", "name": cell}, {"key": "b", "name": "Russia"}],
    )
    exported = client.get("/api/v1/stages.csv").text
    first = rows_of(exported)[0]
    for column in ("notes", "side_name", "received_by_name"):
        assert first[column] == exports.defuse(cell)
    assert first["conflict_name"] == exports.defuse(f"{cell}-Russia")
    assert (first["notes"] != cell) is defused
    before = tallies(session)
    wipe(session, engine)

    run(session, exported)

    assert tallies(session) == before
    assert crud.side_names(session)[(SLUG, "a")] == cell


def test_bom_crlf_and_lf_files_import_alike(session: Session) -> None:
    crlf = to_csv(stage_rows())
    files = ["\ufeff" + crlf, crlf.replace("\r\n", "\n"), "\n\n" + crlf + ",,,\r\n\r\n"]
    reports = [run(session, text, dry_run=True) for text in files]
    assert [actions(report) for report in reports] == [[(SLUG, "2025-05-23", "create")]] * 3


def test_a_header_alone_imports_nothing(session: Session) -> None:
    report = run(session, to_csv([]))
    assert (report.entries, report.summary()) == (
        [],
        "0 created, 0 updated, 0 unchanged, 0 refused",
    )


def test_a_row_with_the_wrong_number_of_cells_is_refused(session: Session) -> None:
    text = to_csv(stage_rows()) + "istanbul-1000-for-1000,1,2\r\n"
    report = run(session, text)
    assert [(entry.lines, entry.action, entry.field) for entry in report.entries] == [
        ((2, 3), "create", None),
        ((4,), "refused", "row"),
    ]
    assert report.entries[1].reason == "row (line 4): 3 cells, the header has 33"


SAVE_AS_UTF8 = "); save it as UTF-8 CSV"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"exchange,date\r\ncaf\xe9,x\r\n", f"byte 0xe9 on line 2{SAVE_AS_UTF8}"),
        (b"\xff\xfe", f"byte 0xff on line 1{SAVE_AS_UTF8}"),
    ],
)
def test_bytes_that_are_not_utf8_are_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile) as raised:
        decode(data)
    assert str(raised.value) == f"not UTF-8 text ({message}"


def test_decode_drops_a_bom() -> None:
    assert decode("\ufeffexchange".encode()) == "exchange"


@pytest.mark.parametrize("text", ["", "\ufeff", " \r\n\r\n", ",,\n"])
def test_an_empty_file_is_unreadable(session: Session, text: str) -> None:
    with pytest.raises(UnreadableFile, match="the file is empty"):
        run(session, text)


def test_a_malformed_csv_is_unreadable(session: Session) -> None:
    huge = "x" * (csv.field_size_limit() + 1)
    with pytest.raises(UnreadableFile, match="line 2: field larger than field limit"):
        run(session, to_csv(stage_rows(notes=huge)))


def test_columns_left_out_keep_what_is_stored(session: Session) -> None:
    figure = {"received_by": "ukraine", "military": 270, "civilian": 120}
    make_exchange(
        session,
        stage_data(
            status="disputed",
            notes="kept",
            sources=[
                SOURCE
                | {
                    "published_at": dt.date(2025, 5, 23),
                    "claim": "kept too",
                    "announcer": "Coordination Headquarters",
                    "speaks_for": "ukraine",
                    "figures": [figure],
                }
            ],
        ),
    )
    stored = snapshots(session)
    kept = [
        "stage_id", "status", "notes", "source_published_at", "source_claims", "side_name",
        "disputed_reason", "source_announcers", "source_speaks_for", "received_by_name",
        "released_by_name", "conflict", "conflict_name", "exchange_title",
    ]  # fmt: skip
    # A release has no identity to keep: its columns left out take their defaults.
    defaults = ["kind", "qualifier", "outside_deal", "categories", "release_date"]
    header = [name for name in exports.CSV_HEADER if name not in kept + defaults]

    report = run(session, to_csv(stage_rows(), header))

    assert actions(report) == [(SLUG, "2025-05-23", "unchanged")]
    assert snapshots(session) == stored
    assert stored[0]["disputed_reason"] == "Marked disputed by an editor"


@pytest.mark.parametrize(
    ("status", "reason", "stored"),
    [
        ("disputed", "", "Marked disputed by an editor"),
        ("disputed", "Lists differ", "Lists differ"),
        ("reported", "Lists differ", "Lists differ"),
        ("reported", "", None),
        ("", "", None),
    ],
)
def test_a_disputed_status_marks_a_new_stage_disputed(
    session: Session, status: str, reason: str, stored: str | None
) -> None:
    run(session, to_csv(stage_rows(status=status, disputed_reason=reason)))

    [snapshot] = snapshots(session)
    assert snapshot["disputed_reason"] == stored
    assert run(session, to_csv(stage_rows(status=status, disputed_reason=reason))).summary() == (
        "0 created, 0 updated, 1 unchanged, 0 refused"
    )


def test_a_stage_its_figures_dispute_needs_no_mark(session: Session) -> None:
    kyiv = SOURCE | {
        "speaks_for": "ukraine",
        "figures": [{"received_by": "ukraine", "people": 390}],
    }
    moscow = SOURCE | {
        "url": "https://tass.example/1",
        "speaks_for": "russia",
        "figures": [{"received_by": "ukraine", "people": 380}],
    }
    make_exchange(session, stage_data(sources=[kyiv, moscow]))
    urls = f"{SOURCE['url']} https://tass.example/1"
    text = to_csv(
        stage_rows(
            status="disputed",
            source_urls=urls,
            source_publishers="Example Wire; Example Wire",
            source_claims=f"{SOURCE['claim']}\n{SOURCE['claim']}",
            source_published_at="; ",
            source_announcers="; ",
            source_speaks_for="ukraine; russia",
        )
    )

    report = run(session, text)

    assert actions(report) == [(SLUG, "2025-05-23", "unchanged")]
    assert session.get(Stage, 1).status == "disputed"  # type: ignore[union-attr]


def test_stages_on_one_date_match_in_order_and_a_stage_id_can_move_a_date(
    session: Session,
) -> None:
    exchange = make_exchange(session, stage_data(), stage_data(a=(1, 1)))
    add_stage(session, exchange, stage_data(a=(5, 5), date=dt.date(2025, 5, 30)))
    text = to_csv(
        stage_rows(stage_id="9")  # another database's id: matched by date
        + stage_rows(stage_id="8", military="1", civilian="1", people="2")
        + stage_rows(stage_id="3", date="2025-05-31", military="5", civilian="5", people="10")
    )

    report = run(session, text)

    assert [(entry.action, entry.stage_id) for entry in report.entries] == [
        ("unchanged", 1), ("unchanged", 2), ("update", 3),
    ]  # fmt: skip
    assert report.entries[2].reason == "stage 3: date changed"
    assert session.get(Stage, 3).date == dt.date(2025, 5, 31)  # type: ignore[union-attr]


def test_a_draft_stays_a_draft(session: Session) -> None:
    make_exchange(session, stage_data(published=False, sources=[]))
    report = run(session, to_csv(stage_rows(notes="checked")))
    assert actions(report) == [(SLUG, "2025-05-23", "update")]
    assert session.get(Stage, 1).published is False  # type: ignore[union-attr]


def test_deleted_stages_and_exchanges_are_refused(session: Session) -> None:
    make_exchange(session, stage_data())
    stage = session.get(Stage, 1)
    assert stage is not None
    writes.delete_stage(
        session,
        stage=stage,
        expected_version=stage.version,
        actor="test",
        user_id=None,
        reason="duplicate",
    )
    make_exchange(session, slug="gone")
    gone = session.scalars(select(Exchange).where(Exchange.slug == "gone")).one()
    gone.deleted_at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    session.add(gone)
    session.commit()

    report = run(session, to_csv(stage_rows(stage_id="1") + stage_rows(exchange="gone")))

    assert [entry.reason for entry in report.entries] == [
        "stage_id: stage 1 was deleted; restore it in the editor first",
        "exchange: gone was deleted; restore it first",
    ]


@pytest.mark.postgresql
def test_a_save_by_someone_else_rolls_the_whole_import_back(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_exchange(session, stage_data())
    stored, history = snapshots(session), revisions(session)

    def conflict(*_: Any, **__: Any) -> None:
        raise writes.Conflict({}, 2)

    monkeypatch.setattr(writes, "update_stage", conflict)
    text = to_csv(stage_rows(date="2025-05-22") + stage_rows(notes="changed"))
    with pytest.raises(ImportConflict, match="stage 1 was saved by someone else"):
        run(session, text)
    assert (snapshots(session), revisions(session)) == (stored, history)


# ---- today's layout: one row per side ----------------------------------------------------


def test_todays_layout_still_imports(session: Session) -> None:
    make_exchange(session, stage_data(remains=(5, None)))
    stored = snapshots(session)
    a_with_remains = row(remains="5")
    new = [
        row(exchange="new-swap", remains="2"),
        row(exchange="new-swap", **SIDE_B | {"side_name": "Belarus"}),
    ]

    report = run(session, to_csv([a_with_remains, row(**SIDE_B), *new], FIRST_HEADER))

    assert [(entry.exchange, entry.action, entry.reason) for entry in report.entries] == [
        (SLUG, "unchanged", "stage 1 already matches"),
        ("new-swap", "create", "new stage in a new exchange"),
    ]
    assert snapshots(session)[0] == stored[0]
    assert crud.side_names(session, slugs=["new-swap"]) == {
        ("new-swap", "a"): "Ukraine", ("new-swap", "b"): "Belarus",
    }  # fmt: skip
    [stage] = crud.get_exchange(session, slug="new-swap").stages  # type: ignore[union-attr]
    assert [
        (r.released_by, r.received_by, r.kind, r.military, r.civilian, r.people, r.remains)
        for r in stage.releases
    ] == [
        ("belarus", "ukraine", "living", 270, 120, 390, None),
        ("belarus", "ukraine", "remains", None, None, None, 2),
        ("ukraine", "belarus", "living", 270, 120, 390, None),
    ]


def test_todays_layout_in_a_file_with_the_new_columns(session: Session) -> None:
    """Rows naming no party are a side each, even in a file that has the release columns."""
    make_exchange(session, stage_data())
    sides = [
        row(released_by="", received_by="", stage_id="1"),
        row(**SIDE_B | {"released_by": "", "received_by": "", "stage_id": "1"}),
    ]

    report = run(session, to_csv(sides))

    assert actions(report) == [(SLUG, "2025-05-23", "unchanged")]


def test_todays_layout_names_new_sides_as_the_first_api_did(session: Session) -> None:
    text = to_csv(stage_rows(exchange="new-swap", side_name=""), FIRST_HEADER)

    run(session, text)

    assert crud.side_names(session) == {("new-swap", "a"): "Ukraine", ("new-swap", "b"): "Russia"}


@pytest.mark.parametrize(
    ("rows", "field", "reason"),
    [
        ([row(side="c"), row(**SIDE_B)], "side", "side (line 2): must be a or b, not 'c'"),
        (stage_rows(side="b"), "side", "side (line 3): side b has two rows in this stage"),
        ([row()], "side", "side: side b has no row in this stage"),
        ([row(side_name="Belarus"), row(**SIDE_B)], "side_name",
         f"side_name (line 2): side a of {SLUG} is 'Ukraine', not 'Belarus'"),
        ([row(exchange="yemen-swap"), row(exchange="yemen-swap", **SIDE_B)], "side",
         "side (line 2): yemen-swap has 3 parties; give released_by and received_by"),
        ([row(exchange="new-swap", side_name="Russia"), row(exchange="new-swap", **SIDE_B)],
         "side_name", "side_name (line 3): sides a and b are both 'Russia'"),
    ],
)  # fmt: skip
def test_todays_layout_refuses_a_bad_side(
    session: Session, rows: list[dict[str, str]], field: str, reason: str
) -> None:
    make_exchange(session, stage_data())
    writes.create_exchange(session, data=ExchangeCreate.model_validate(YEMEN), actor="test")
    session.commit()
    stored, history = snapshots(session), revisions(session)

    report = run(session, to_csv(rows, FIRST_HEADER))

    assert refusals(report) == [(field, reason)]
    assert (snapshots(session), revisions(session)) == (stored, history)


# ---- the command -------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'swaptally.db'}")
    return tmp_path


def test_import_command_reports_saves_and_exits(cli_database: Path) -> None:
    runner = CliRunner()
    good = cli_database / "good.csv"
    good.write_text(to_csv(stage_rows() + stage_rows(date="2025-05-24")), newline="")
    mixed = cli_database / "mixed.csv"
    mixed.write_text(to_csv(stage_rows(notes="Day 1") + stage_rows(date="x")), newline="")
    assert runner.invoke(cli, ["migrate"]).exit_code == 0

    dry = runner.invoke(cli, ["import", str(good), "--dry-run"])
    first = runner.invoke(cli, ["import", str(good)])
    again = runner.invoke(cli, ["import", str(good)])
    refused = runner.invoke(cli, ["import", str(mixed)])

    assert (dry.exit_code, dry.stdout.splitlines()) == (0, [
        f"lines 2-3, {SLUG}, 2025-05-23: create: new stage in a new exchange",
        f"lines 4-5, {SLUG}, 2025-05-24: create: new stage",
        "2 created, 0 updated, 0 unchanged, 0 refused (dry run: nothing saved)",
    ])  # fmt: skip
    assert (first.exit_code, first.stdout.splitlines()[-1]) == (
        0, "2 created, 0 updated, 0 unchanged, 0 refused"
    )  # fmt: skip
    assert (again.exit_code, again.stdout.splitlines()) == (0, [
        f"lines 2-3, {SLUG}, 2025-05-23: unchanged: stage 1 already matches",
        f"lines 4-5, {SLUG}, 2025-05-24: unchanged: stage 2 already matches",
        "0 created, 0 updated, 2 unchanged, 0 refused",
    ])  # fmt: skip
    assert (refused.exit_code, refused.stdout.splitlines()) == (1, [
        f"lines 2-3, {SLUG}, 2025-05-23: update: stage 1: notes changed",
        f"lines 4-5, {SLUG}, 'x': refused: date (line 4): must be a date as YYYY-MM-DD, not 'x'",
        "0 created, 1 updated, 0 unchanged, 1 refused",
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Error: cannot read {path}: No such file or directory.\n"),
        (b"", "Error: {path}: the file is empty; expected a header row like the export's.\n"),
        (b"exchange\n\xe9", "Error: {path}: not UTF-8 text (byte 0xe9 on line 2{save}.\n"),
    ],
)
def test_import_command_exits_2_for_an_unreadable_file(
    cli_database: Path, content: bytes | None, message: str
) -> None:
    path = cli_database / "in.csv"
    if content is not None:
        path.write_bytes(content)
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    result = runner.invoke(cli, ["import", str(path)])
    assert (result.exit_code, result.stderr) == (2, message.format(path=path, save=SAVE_AS_UTF8))


def test_import_command_needs_a_schema(cli_database: Path) -> None:
    path = cli_database / "in.csv"
    path.write_text(to_csv(stage_rows()))
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert (result.exit_code, result.stderr) == (
        2,
        "No schema yet: run `swaptally migrate` first.\n",
    )
