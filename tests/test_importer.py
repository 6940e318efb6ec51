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

from app import crud, exports, writes
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
from app.models import Exchange, Revision, Stage
from tests.factories import SOURCE, add_stage, make_exchange, stage_data

SLUG = "istanbul-1000-for-1000"


def row(**cells: str) -> dict[str, str]:
    """Side a of the factories' default stage, as the export writes it (before stage_id)."""
    return {
        "exchange": SLUG, "stage_id": "", "date": "2025-05-23", "status": "confirmed",
        "side": "a", "side_name": "Ukraine", "military": "270", "civilian": "120",
        "people": "390", "remains": "", "notes": "", "source_urls": SOURCE["url"],
        "source_publishers": SOURCE["publisher"], "exchange_title": "",
        "source_published_at": "", "source_claims": SOURCE["claim"],
    } | cells  # fmt: skip


def stage_rows(**cells: str) -> list[dict[str, str]]:
    return [row(**cells), row(**({"side": "b", "side_name": "Russia"} | cells))]


def to_csv(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, header or exports.CSV_HEADER, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def run(session: Session, text: str, *, dry_run: bool = False) -> ImportReport:
    return import_csv(session, text, actor="importer", user_id=None, dry_run=dry_run)


def actions(report: ImportReport) -> list[tuple[str, str, str]]:
    return [(entry.exchange, entry.date, entry.action) for entry in report.entries]


def revisions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Revision)) or 0


def snapshots(session: Session) -> list[dict[str, Any]]:
    stages = session.scalars(select(Stage).order_by(col(Stage.id)))
    return [writes.stage_snapshot(session, stage) | {"id": stage.id} for stage in stages]


def tallies(session: Session) -> dict[str, Any]:
    """What readers see: every exchange's sides and stages, and the all-time totals."""
    seen: dict[str, Any] = {"totals": crud.totals(session).model_dump()}
    for slug in sorted(crud.exchange_slugs(session)):
        exchange = crud.get_exchange(session, slug=slug)
        assert exchange is not None
        seen[slug] = {
            "sides": [
                (side.key, side.name, side.returned, side.undisclosed) for side in exchange.sides
            ],
            "stages_count": exchange.stages_count,
            "stages": [
                stage.model_dump(exclude={"id", "version", "updated_at"})
                for stage in exchange.stages
            ],
        }
    return seen


@pytest.fixture
def two_exchanges(session: Session) -> None:
    """Undisclosed counts, remains, a reported total without its split, several sources, and a
    draft that no export shows."""
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


def wipe(session: Session, engine: Engine) -> None:
    session.close()
    metadata.drop_all(engine)
    metadata.create_all(engine)


@pytest.mark.usefixtures("two_exchanges")
def test_export_imported_into_an_empty_database_gives_the_same_tallies(
    client: TestClient, session: Session, engine: Engine
) -> None:
    exported = client.get("/api/v1/stages.csv").text
    before = tallies(session)
    wipe(session, engine)

    report = run(session, exported)

    assert report.summary() == "4 created, 0 updated, 0 unchanged, 0 refused"
    assert report.exchanges_created == 2
    assert tallies(session) == before
    assert session.scalar(select(Exchange.status).where(Exchange.slug == SLUG)) == "completed"


@pytest.mark.usefixtures("two_exchanges")
def test_titles_and_side_names_come_from_the_file(session: Session, engine: Engine) -> None:
    slugs = sorted(crud.exchange_slugs(session))
    details = [crud.get_exchange(session, slug=slug) for slug in slugs]
    stages = [stage for detail in details if detail is not None for stage in detail.stages]
    exported = exports.stages_csv(
        stages, crud.side_names(session), crud.exchange_titles(session, slugs=slugs)
    )
    wipe(session, engine)

    run(session, exported)

    assert crud.exchange_titles(session, slugs=slugs) == {
        SLUG: "Istanbul 1,000 for 1,000",
        "belarus-swap": "Belarus swap",
    }
    assert crud.side_names(session)[("belarus-swap", "b")] == "Belarus"


@pytest.mark.usefixtures("two_exchanges")
def test_second_import_into_an_empty_database_changes_nothing(
    client: TestClient, session: Session, engine: Engine
) -> None:
    # Newest first: the new database gives the stages other ids than the file names.
    exported = client.get("/api/v1/stages.csv").text
    wipe(session, engine)
    run(session, exported)
    stored, history = snapshots(session), revisions(session)

    report = run(session, exported)

    assert report.summary() == "0 created, 0 updated, 4 unchanged, 0 refused"
    assert (snapshots(session), revisions(session)) == (stored, history)


@pytest.mark.usefixtures("two_exchanges")
def test_reimporting_an_export_into_its_own_database_changes_nothing(
    client: TestClient, session: Session
) -> None:
    exported = client.get(f"/api/v1/exchanges/{SLUG}/stages.csv").text
    stored, history = snapshots(session), revisions(session)

    report = run(session, exported)

    assert [(entry.stage_id, entry.action) for entry in report.entries] == [
        (1, "unchanged"), (2, "unchanged"), (3, "unchanged"),
    ]  # fmt: skip
    assert (snapshots(session), revisions(session)) == (stored, history)


@pytest.mark.usefixtures("two_exchanges")
def test_dry_run_reports_the_same_actions_and_saves_nothing(
    client: TestClient, session: Session, engine: Engine
) -> None:
    exported = client.get("/api/v1/stages.csv").text
    wipe(session, engine)

    dry = run(session, exported, dry_run=True)

    assert dry.summary() == "4 created, 0 updated, 0 unchanged, 0 refused (dry run: nothing saved)"
    assert {entry.stage_id for entry in dry.entries} == {None}
    assert (crud.exchange_slugs(session), revisions(session)) == (set(), 0)
    assert actions(run(session, exported)) == actions(dry)


def test_a_changed_figure_updates_the_stage_with_a_reason(session: Session) -> None:
    make_exchange(session, stage_data())
    rows = stage_rows(notes="Day 1")
    rows[0] |= {"military": "280", "people": "400"}
    text = to_csv(rows)

    dry = run(session, text, dry_run=True)
    report = run(session, text)

    assert [entry.describe() for entry in report.entries] == [
        f"lines 2-3, {SLUG}, 2025-05-23: update: stage 1: notes, sides changed"
    ]
    assert actions(dry) == actions(report)
    [side_a, side_b] = crud.get_exchange(session, slug=SLUG).sides  # type: ignore[union-attr]
    assert (side_a.returned.people, side_b.returned.people) == (400, 390)
    [latest, _] = writes.history(session, entity="stage", entity_id=1)
    assert (latest.action, latest.actor, latest.reason) == ("update", "importer", "CSV import")


NOT_A_NUMBER = "must be a whole number or empty, not"


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        ({"military": "-5"}, "military", "military (line 2): cannot be negative"),
        ({"military": "12.5"}, "military", f"military (line 2): {NOT_A_NUMBER} '12.5'"),
        ({"civilian": "abc"}, "civilian", f"civilian (line 2): {NOT_A_NUMBER} 'abc'"),
        ({"remains": "100001"}, "remains", "remains (line 2): cannot be more than 100000"),
        ({"remains": "9" * 5000}, "remains", "remains (line 2): cannot be more than 100000"),
        (
            {"people": "391"},
            "people",
            "people (line 2): people (391) must equal military + civilian (390)",
        ),
        ({"side": "c"}, "side", "side (line 2): must be a or b, not 'c'"),
        ({"side": "b"}, "side", "side (line 3): side b has two rows in this stage"),
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
            {"source_published_at": "23.05.2025"},
            "source_published_at",
            "source_published_at: must be a date as YYYY-MM-DD, not '23.05.2025'",
        ),
        (
            {"status": "rumoured"},
            "status",
            "status: 'rumoured': Input should be 'reported', 'confirmed' or 'disputed'",
        ),
        (
            {"side_name": "Belarus"},
            "side_name",
            f"side_name (line 2): side a of {SLUG} is 'Ukraine', not 'Belarus'",
        ),
        ({"notes": "a\x00b"}, "notes", "notes (line 2): contains a NUL character"),
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
        ([row(date="2025-13-01"), row(date="2025-13-01", side="b")], "date",
         "date (line 2): must be a date as YYYY-MM-DD, not '2025-13-01'"),
        ([row(stage_id="x"), row(stage_id="x", side="b")], "stage_id",
         "stage_id (line 2): must be a stage number, not 'x'"),
        ([row(exchange="Bad Slug"), row(exchange="Bad Slug", side="b")], "exchange",
         "exchange: must be a slug like istanbul-1000-for-1000, not 'Bad Slug'"),
        ([row()], "side", "side: side b has no row in this stage"),
        ([row(), row(side="b", notes="other")], "notes",
         "notes (line 3): differs from line 2 of the same stage"),
        (stage_rows(source_urls="", source_publishers="", source_claims=""), "source_urls",
         "source_urls: a published stage needs at least one source"),
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


def test_a_missing_column_refuses_the_file(session: Session) -> None:
    make_exchange(session, stage_data())
    stored, history = snapshots(session), revisions(session)
    header = [name for name in exports.CSV_HEADER if name not in ("remains", "civilian")]

    report = run(session, to_csv(stage_rows(military="1"), header))

    [entry] = report.entries
    assert (entry.lines, entry.action, entry.field) == ((1,), "refused", "civilian, remains")
    assert entry.describe() == (
        "line 1: refused: missing required column(s): civilian, remains; nothing imported"
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
            row(exchange="new-swap", side_name=""),
            *stage_rows(exchange="new-swap", date="2025-05-24", military="x"),
            row(exchange="new-swap", side="b", side_name=""),
        ]
    )

    report = run(session, text)

    assert [(entry.lines, entry.action, entry.reason) for entry in report.entries] == [
        ((2, 5), "create", "new stage in a new exchange"),
        ((3, 4), "refused", "military (line 3): must be a whole number or empty, not 'x'"),
    ]
    assert report.entries[0].describe().startswith("lines 2, 5, new-swap, 2025-05-23: create")
    assert crud.side_names(session) == {("new-swap", "a"): "Ukraine", ("new-swap", "b"): "Russia"}
    assert crud.exchange_titles(session, slugs=["new-swap"]) == {"new-swap": "new-swap"}


@pytest.mark.parametrize(
    ("cell", "defused"),
    [('=HYPERLINK("http://evil.example","x")', True), ("+1", True), ("-Ukraine", True),
     ("@SUM(A1)", True), ("\tx", True), ("\rx", True), ("'=already quoted", True),
     ("''@twice", True), ("'plain", False), ("plain", False),
     ("x  =1", False), ("  =1+1", True), (" @SUM(A1)", True), ("\u00a0-2", True),
     ("' =quoted after a space", True), ("  'text", False)],
)  # fmt: skip
def test_a_defused_cell_imports_as_its_original_text(
    client: TestClient, session: Session, engine: Engine, cell: str, defused: bool
) -> None:
    make_exchange(
        session,
        stage_data(notes=cell, sources=[SOURCE | {"publisher": cell, "claim": cell}]),
        sides=[{"key": "a", "name": cell}, {"key": "b", "name": "Russia"}],
    )
    exported = client.get("/api/v1/stages.csv").text
    first = next(csv.DictReader(io.StringIO(exported)))
    assert first["notes"] == exports.defuse(cell)
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
    assert report.entries[1].reason == "row (line 4): 3 cells, the header has 16"


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
    make_exchange(
        session,
        stage_data(
            status="disputed",
            notes="kept",
            sources=[SOURCE | {"published_at": dt.date(2025, 5, 23), "claim": "kept too"}],
        ),
    )
    stored = snapshots(session)
    kept = ["stage_id", "status", "notes", "source_published_at", "source_claims", "side_name"]
    header = [name for name in exports.CSV_HEADER if name not in kept]

    report = run(session, to_csv(stage_rows(), header))

    assert actions(report) == [(SLUG, "2025-05-23", "unchanged")]
    assert snapshots(session) == stored


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
    writes.delete_stage(session, stage=stage, actor="test", user_id=None, reason="duplicate")
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
