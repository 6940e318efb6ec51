"""CSV import of exchanges and stages in the layout of `app.exports`, so that an export round-trips.

- Rows are grouped into stages by exchange slug and `stage_id`, or the date when `stage_id` is
  empty; each row is one release (`released_by`, `received_by` and the release's columns), and a
  stage's only row naming no party and no count is a stage without releases. The first API's
  layout still reads: a stage whose rows name no party but a `side` has one row per side (a and
  b) with what that side received. Cells the export repeats on each row of a stage (date,
  status, notes, sources, disputed_reason, exchange title, conflict) must agree. Required
  columns: exchange, date, the four counts, source_urls, source_publishers, and released_by and
  received_by (or side). A stage column left out keeps what is stored, or the default for a new
  stage; a release column left out takes its default.
- Cells are read here (whole numbers, YYYY-MM-DD dates, "name=count; …" categories, party
  slugs); whether a value is allowed is the write schema's to say (`StageCreate`, as for the
  form and the API), and its errors name the column and line. Sources zip the URLs (space
  separated) with the publishers, announcers, whom they speak for and publication dates ("; "
  separated, an unknown value empty) and claims (one per line). The apostrophe `exports.defuse`
  puts before formula-like text is removed. The figures an announcer gave are not in the file: a
  source keeps its stored ones while its URL is listed. `status` disputed without a reason marks
  a stage disputed by hand, unless those figures already dispute it.
- A stage matches a stored stage of its exchange: the one with its `stage_id` on the same date,
  else the oldest on its date not matched yet, else the one with its `stage_id` (a new date). It
  is updated (reason "CSV import") only if something differs, so importing a file twice changes
  nothing. Other stages are created, published, and so is an unknown exchange: status
  completed; title from exchange_title or the slug; conflict from `conflict` and
  `conflict_name`, else the one holding its parties; parties and terms from `exchange_parties`
  and `exchange_terms` (JSON, as the API takes them), else parties from the slugs and names in
  its rows (sides a and b first, then in the order they first receive, then release, from its
  oldest stage on) and no terms. Stored exchanges never change; a stored stage keeps its draft
  or published state.
- A stage with an invalid cell is refused, naming the column, and nothing of it is written; the
  others are saved in one transaction, rolled back for a dry run.
"""

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from app import writes
from app.exports import CATEGORY_SEPARATOR, CLAIM_SEPARATOR, LIST_SEPARATOR, undefuse
from app.models import (
    SIDE_KEYS,
    SLUG_PATTERN,
    Exchange,
    ExchangeCreate,
    Party,
    Source,
    SourceFigure,
    Stage,
    StageCreate,
)

T = TypeVar("T")
Action = Literal["create", "update", "unchanged", "refused"]
ACTION_COUNTS: tuple[tuple[Action, str], ...] = (
    ("create", "created"),
    ("update", "updated"),
    ("unchanged", "unchanged"),
    ("refused", "refused"),
)
REQUIRED_COLUMNS = (
    "exchange", "date", "military", "civilian", "people", "remains", "source_urls",
    "source_publishers",
)  # fmt: skip
PARTY_COLUMNS = ("released_by", "received_by")  # or today's "side"
COUNT_COLUMNS = ("military", "civilian", "people", "remains")
# Every row of a stage repeats these; "exchange" and "stage_id" (or "date") group the rows.
STAGE_COLUMNS = (
    "date", "status", "notes", "source_urls", "source_publishers", "source_published_at",
    "source_claims", "exchange_title", "disputed_reason", "conflict", "conflict_name",
    "source_announcers", "source_speaks_for", "source_figures", "exchange_parties",
    "exchange_terms",
)  # fmt: skip
# The write schema's field names, as columns of the file.
SCHEMA_COLUMNS = {
    "slug": "exchange", "title": "exchange_title", "key": "side", "name": "side_name",
    "url": "source_urls", "publisher": "source_publishers", "announcer": "source_announcers",
    "speaks_for": "source_speaks_for", "published_at": "source_published_at",
    "claim": "source_claims", "sources": "source_urls", "sides": "side",
    "releases": "received_by",
}  # fmt: skip
RELEASE_COLUMNS = SCHEMA_COLUMNS | {"date": "release_date"}
# A new exchange's conflict and parties: (the slug's column, the name's).
NEW_EXCHANGE_COLUMNS = {
    "conflict": ("conflict", "conflict_name"),
    "parties": ("received_by", "received_by_name"),
}
DEFAULT_SIDE_NAMES = {"a": "Ukraine", "b": "Russia"}  # as in ExchangeCreate
MAX_STAGE_ID = 2**31 - 1  # larger ids cannot be stored, so cannot match
# A longer number is refused by the schema like any too large one; Python will not even parse
# thousands of digits.
MAX_DIGITS = 20
IMPORT_REASON = "CSV import"
NEW_EXCHANGE_STATUS = "completed"
WHOLE_NUMBER = re.compile(r"(-?)([0-9]+)")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class UnreadableFile(ValueError):
    """Not a CSV file that can be read at all: not UTF-8, empty, or malformed."""


class ImportConflict(Exception):
    """Someone saved a stage while the import ran; the whole import was rolled back."""


@dataclasses.dataclass(frozen=True)
class ImportEntry:
    """What happened to one stage (or, if refused, to the rows that would have made it)."""

    lines: tuple[int, ...]
    exchange: str
    date: str
    action: Action
    reason: str
    field: str | None = None
    stage_id: int | None = None

    def describe(self) -> str:
        span = f"line {self.lines[0]}" if len(self.lines) == 1 else f"lines {_spans(self.lines)}"
        where = [span]
        where += [_shown(self.exchange, SLUG_PATTERN)] if self.exchange else []
        where += [_shown(self.date, ISO_DATE)] if self.date else []
        return f"{', '.join(where)}: {self.action}: {self.reason}"


@dataclasses.dataclass
class ImportReport:
    dry_run: bool
    entries: list[ImportEntry] = dataclasses.field(default_factory=list)
    exchanges_created: int = 0

    def count(self, action: Action) -> int:
        return sum(entry.action == action for entry in self.entries)

    @property
    def refused(self) -> int:
        return self.count("refused")

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(action)} {word}" for action, word in ACTION_COUNTS)
        return counts + (" (dry run: nothing saved)" if self.dry_run else "")


class _Refused(Exception):
    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{field}{'' if line is None else f' (line {line})'}: {message}")
        self.field = field


@dataclasses.dataclass
class _Row:
    line: int
    cells: dict[str, str]

    def cell(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclasses.dataclass(frozen=True)
class _Named:
    """A party as the file names it: its slug, its name, and its side (a or b) if it has one."""

    slug: str
    name: str
    side: str
    receives: bool


@dataclasses.dataclass
class _Stage:
    """The cells of one stage's rows, read but not yet judged by the write schema: its releases
    (or the first API's sides), each with the line it came from."""

    slug: str
    stage_id: int | None
    date: dt.date
    shared: dict[str, str]
    releases: list[dict[str, Any]] | None
    sides: list[dict[str, Any]] | None
    lines: list[int]
    side_names: dict[str, tuple[str, int]]
    parties: list[_Named]


def decode(data: bytes) -> str:
    """The text of a CSV file, or UnreadableFile with the first offending byte and its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); save it as UTF-8 CSV"
        ) from None


def import_csv(
    session: Session, text: str, *, actor: str, user_id: int | None, dry_run: bool
) -> ImportReport:
    """Import every valid stage of `text` in one transaction: committed, or rolled back for a dry
    run. Raises UnreadableFile for a file without a header, ImportConflict on a concurrent save."""
    header, rows = _read(text)
    report = ImportReport(dry_run=dry_run)
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if "side" not in header or any(name in header for name in PARTY_COLUMNS):
        missing += [name for name in PARTY_COLUMNS if name not in header]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    unnamed = [str(number) for number, name in enumerate(header, 1) if not name]
    if missing or repeated or unnamed:
        if missing or repeated:
            problem = "missing required column(s)" if missing else "repeated column(s)"
        else:
            problem = "column(s) without a name in the header, numbered from 1"
        names = ", ".join(missing or repeated or unnamed)
        report.entries.append(
            ImportEntry((1,), "", "", "refused", f"{problem}: {names}; nothing imported", names)
        )
        return report
    groups: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        groups.setdefault(_group_key(row), []).append(row)
    importer = _Importer(session, actor=actor, user_id=user_id)
    try:
        report.entries = importer.run(list(groups.values()), dry_run=dry_run)
    except BaseException:
        session.rollback()
        raise
    report.exchanges_created = importer.exchanges_created
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


# ---- reading -----------------------------------------------------------------------------


def _read(text: str) -> tuple[list[str], list[_Row]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] = []
    rows: list[_Row] = []
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, and rows a spreadsheet left empty
            if not header:
                header = [name.strip() for name in record]
                while header and not header[-1]:
                    header.pop()  # a spreadsheet's trailing empty column
                continue
            if len(record) > len(header) and not any(
                cell.strip() for cell in record[len(header) :]
            ):
                record = record[: len(header)]  # that column's cells, left empty
            if len(record) != len(header):
                rows.append(_Row(start, {"": f"{len(record)} cells, the header has {len(header)}"}))
            else:
                rows.append(_Row(start, dict(zip(header, map(undefuse, record), strict=True))))
    except csv.Error as error:
        raise UnreadableFile(f"line {reader.line_num}: {error}") from None
    if not header:
        raise UnreadableFile("the file is empty; expected a header row like the export's")
    return header, rows


def _group_key(row: _Row) -> tuple[str, str]:
    if "" in row.cells:  # a malformed row stands alone
        return "", f"line {row.line}"
    stage_id = row.cell("stage_id")
    by = f"id {stage_id}" if stage_id else f"date {row.cell('date')}"
    return row.cell("exchange"), by


def _stage_id(row: _Row) -> int | None:
    text = row.cell("stage_id")
    if not text:
        return None
    match = WHOLE_NUMBER.fullmatch(text)
    if match is None or match[1]:
        raise _Refused("stage_id", f"must be a stage number, not {_shown(text)}", row.line)
    digits = match[2].lstrip("0")
    return int(digits) if digits and len(digits) <= len(str(MAX_STAGE_ID)) else MAX_STAGE_ID + 1


def _whole(text: str, column: str, line: int) -> int:
    """A whole number as written; whether it is a plausible count is the schema's to say."""
    match = WHOLE_NUMBER.fullmatch(text)
    if match is None:
        raise _Refused(column, f"must be a whole number or empty, not {_shown(text)}", line)
    digits = match[2].lstrip("0") or "0"
    number = int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    return -number if match[1] else number


def _count(row: _Row, column: str) -> int | None:
    text = row.cell(column)
    return _whole(text, column, row.line) if text else None


def _date(text: str, column: str, line: int | None = None) -> dt.date:
    try:
        if ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise _Refused(column, f"must be a date as YYYY-MM-DD, not {_shown(text)}", line)


def _categories(row: _Row) -> dict[str, int]:
    """The categories cell by name: "women=15; minors=2" is {"women": 15, "minors": 2}."""
    found: dict[str, int] = {}
    cell = row.cell("categories")
    for pair in cell.split(LIST_SEPARATOR.strip()) if cell else []:
        name, equals, count = pair.rpartition(CATEGORY_SEPARATOR)
        name = name.strip()
        if not equals or not name:
            message = f"must be name=count pairs separated by '; ', not {_shown(cell)}"
            raise _Refused("categories", message, row.line)
        if name in found:
            raise _Refused("categories", f"{_shown(name)} is given twice", row.line)
        found[name] = _whole(count.strip(), "categories", row.line)
    return found


def _party_slug(row: _Row, column: str) -> str:
    slug = row.cell(column)
    if not SLUG_PATTERN.fullmatch(slug):
        message = f"must be a party's slug like ukraine, not {_shown(slug)}"
        raise _Refused(column, message, row.line)
    return slug


def _release(row: _Row) -> dict[str, Any]:
    """A row's release in the write schema's shape; a cell left empty takes its default."""
    release: dict[str, Any] = {
        "released_by": _party_slug(row, "released_by"),
        "received_by": _party_slug(row, "received_by"),
        **{column: _count(row, column) for column in COUNT_COLUMNS},
        "categories": _categories(row),
    }
    for column in ("kind", "qualifier", "outside_deal"):
        if text := row.cell(column):
            release[column] = text
    if text := row.cell("release_date"):
        release["date"] = _date(text, "release_date", row.line)
    return release


def _parse(rows: list[_Row]) -> _Stage:
    first = rows[0]
    if "" in first.cells:
        raise _Refused("row", first.cells[""], first.line)
    for row in rows:
        for column, cell in row.cells.items():
            if "\x00" in cell:
                raise _Refused(column, "contains a NUL character", row.line)
    slug = first.cell("exchange")
    if not SLUG_PATTERN.fullmatch(slug):
        raise _Refused(
            "exchange", f"must be a slug like istanbul-1000-for-1000, not {_shown(slug)}"
        )
    shared = {name: first.cells[name] for name in STAGE_COLUMNS if name in first.cells}
    for row in rows[1:]:
        for name, cell in shared.items():
            if row.cells[name] != cell:
                raise _Refused(name, f"differs from line {first.line} of the same stage", row.line)
    conflict = shared.get("conflict", "").strip()
    if conflict and not SLUG_PATTERN.fullmatch(conflict):
        message = f"must be a slug like russia-ukraine-war, not {_shown(conflict)}"
        raise _Refused("conflict", message, first.line)
    stage = _Stage(
        slug=slug,
        stage_id=_stage_id(first),
        date=_date(shared["date"].strip(), "date", first.line),
        shared=shared,
        releases=None,
        sides=None,
        lines=[],
        side_names={},
        parties=[],
    )
    named = any(row.cell(column) for row in rows for column in PARTY_COLUMNS)
    sided = any(row.cell("side") for row in rows)
    if "released_by" not in first.cells or (sided and not named):
        _read_sides(stage, rows)
    else:
        _read_releases(stage, rows)
    return stage


def _read_releases(stage: _Stage, rows: list[_Row]) -> None:
    stage.releases = []
    for row in rows:
        empty = not any(row.cell(column) for column in (*PARTY_COLUMNS, *COUNT_COLUMNS))
        if empty and len(rows) == 1:
            return  # a stage without releases
        release = _release(row)
        stage.releases.append(release)
        stage.lines.append(row.line)
        for column, receives in (("received_by", True), ("released_by", False)):
            name, side = row.cells.get(f"{column}_name", ""), row.cell("side") if receives else ""
            stage.parties.append(_Named(release[column], name, side, receives))


def _read_sides(stage: _Stage, rows: list[_Row]) -> None:
    """Today's layout: one row per side, with what that side received."""
    sides: dict[str, tuple[dict[str, Any], int]] = {}
    for row in rows:
        key = row.cell("side")
        if key not in SIDE_KEYS:
            raise _Refused("side", f"must be a or b, not {_shown(key)}", row.line)
        if key in sides:
            raise _Refused("side", f"side {key} has two rows in this stage", row.line)
        if name := row.cells.get("side_name", ""):
            stage.side_names[key] = (name, row.line)
        counts = {column: _count(row, column) for column in COUNT_COLUMNS}
        sides[key] = ({"key": key, **counts}, row.line)
    for key in SIDE_KEYS:
        if key not in sides:
            raise _Refused("side", f"side {key} has no row in this stage")
    stage.sides = [sides[key][0] for key in SIDE_KEYS]
    stage.lines = [sides[key][1] for key in SIDE_KEYS]


def _validated(
    validate: Callable[[dict[str, Any]], T],
    data: dict[str, Any],
    field: str,
    lines: Sequence[int] = (),
) -> T:
    """`validate(data)`, or _Refused naming the CSV column of the first error (else `field`)
    and, for a release or side, the line of its row."""
    try:
        return validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        column, line = _column(first["loc"], data, field, lines)
        message = str(first["msg"]).removeprefix("Value error, ")
        if isinstance(first["input"], str):
            message = f"{_shown(first['input'])}: {message}"
        raise _Refused(column, message, line) from None


def _column(
    loc: tuple[int | str, ...], data: dict[str, Any], field: str, lines: Sequence[int]
) -> tuple[str, int | None]:
    """The column and line of the value at `loc`, e.g. ("releases", 0, "people") is the
    `people` cell of the first release's row."""
    if len(loc) >= 2 and loc[0] in ("releases", "sides") and isinstance(loc[1], int):
        line = lines[loc[1]] if loc[1] < len(lines) else None
        names = [part for part in loc[2:] if isinstance(part, str)]
        if names:
            return RELEASE_COLUMNS.get(names[0], names[0]), line
        if loc[0] == "sides":
            return "side", line
        # ReleaseIn's own checks, not of one field: its two parties, then its categories.
        release = data["releases"][loc[1]]
        same = release["released_by"] == release["received_by"]
        return "received_by" if same else "categories", line
    names = [part for part in loc if isinstance(part, str)]
    if "figures" in names:
        return "source_figures", None
    if loc and loc[0] == "terms":
        return "exchange_terms", None
    if loc and loc[0] in NEW_EXCHANGE_COLUMNS:
        return NEW_EXCHANGE_COLUMNS[str(loc[0])][names[-1] == "name"], None
    return (SCHEMA_COLUMNS.get(names[-1], names[-1]) if names else field), None


def _shown(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """Cell text fit for a message: plain if it matches `pattern`, else quoted and shortened."""
    if pattern is not None and pattern.fullmatch(text):
        return text
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _spans(lines: tuple[int, ...]) -> str:
    if list(lines) == list(range(lines[0], lines[-1] + 1)):
        return f"{lines[0]}-{lines[-1]}"
    return ", ".join(map(str, lines))


# ---- writing -----------------------------------------------------------------------------


@dataclasses.dataclass
class _Group:
    """The rows of one stage, what they say, and the stored stage they match."""

    rows: list[_Row]
    parsed: _Stage | None = None
    refusal: _Refused | None = None
    match: Stage | None = None

    @property
    def lines(self) -> tuple[int, ...]:
        return tuple(row.line for row in self.rows)


class _Importer:
    def __init__(self, session: Session, *, actor: str, user_id: int | None) -> None:
        self.session = session
        self.actor = actor
        self.user_id = user_id
        self.exchanges_created = 0
        self.parsed: list[_Stage] = []
        self._slugs: dict[int | None, str] | None = None

    def run(self, rows_by_stage: list[list[_Row]], *, dry_run: bool) -> list[ImportEntry]:
        groups = [_Group(rows) for rows in rows_by_stage]
        for group in groups:
            try:
                group.parsed = _parse(group.rows)
            except _Refused as refusal:
                group.refusal = refusal
        self.parsed = [group.parsed for group in groups if group.parsed is not None]
        self._match(groups)
        return [self._entry(group, dry_run=dry_run) for group in groups]

    def _entry(self, group: _Group, *, dry_run: bool) -> ImportEntry:
        first = group.rows[0].cells
        where = (group.lines, first.get("exchange", "").strip(), first.get("date", "").strip())
        try:
            action, reason, stage_id = self._import(group)
        except _Refused as refusal:
            return ImportEntry(*where, "refused", str(refusal), refusal.field)
        kept = not (action == "create" and dry_run)  # else rolled back: the id will not exist
        return ImportEntry(*where, action, reason, stage_id=stage_id if kept else None)

    def _match(self, groups: list[_Group]) -> None:
        """Pair stages with stored ones: same stage_id and date first, then the oldest one on the
        date, then the stage_id alone (a new date), so that ids from another database matter
        only where the dates leave a choice."""
        slugs = {group.parsed.slug for group in groups if group.parsed is not None}
        query = select(Exchange).where(
            col(Exchange.slug).in_(slugs), col(Exchange.deleted_at).is_(None)
        )
        exchanges = {exchange.slug: exchange for exchange in self.session.scalars(query)}
        candidates = [
            (group, group.parsed, exchanges[group.parsed.slug])
            for group in groups
            if group.parsed is not None and group.parsed.slug in exchanges
        ]
        taken: set[int | None] = set()
        for group, parsed, exchange in candidates:
            stage = self._stage_by_id(exchange, parsed)
            if stage is not None and stage.date == parsed.date and stage.id not in taken:
                if stage.deleted_at is not None:
                    message = f"stage {stage.id} was deleted; restore it in the editor first"
                    group.refusal = _Refused("stage_id", message)
                group.match = stage
                taken.add(stage.id)
        for group, parsed, exchange in candidates:
            if group.match is None:
                free = [s for s in self._stages_on(exchange, parsed.date) if s.id not in taken]
                if free:
                    group.match = free[0]
                    taken.add(free[0].id)
        for group, parsed, exchange in candidates:
            stage = self._stage_by_id(exchange, parsed)
            unused = stage is not None and stage.deleted_at is None and stage.id not in taken
            if group.match is None and unused:
                group.match = stage
                taken.add(parsed.stage_id)

    def _stage_by_id(self, exchange: Exchange, parsed: _Stage) -> Stage | None:
        if parsed.stage_id is None or parsed.stage_id > MAX_STAGE_ID:
            return None
        stage = self.session.get(Stage, parsed.stage_id)
        return stage if stage is not None and stage.exchange_id == exchange.id else None

    def _stages_on(self, exchange: Exchange, date: dt.date) -> list[Stage]:
        query = select(Stage).where(
            col(Stage.exchange_id) == exchange.id,
            col(Stage.date) == date,
            col(Stage.deleted_at).is_(None),
        )
        return list(self.session.scalars(query.order_by(col(Stage.id))))

    def _import(self, group: _Group) -> tuple[Action, str, int]:
        if group.refusal is not None:
            raise group.refusal
        assert group.parsed is not None
        parsed, stage = group.parsed, group.match
        exchange = self.session.scalars(
            select(Exchange).where(col(Exchange.slug) == parsed.slug)
        ).one_or_none()
        new_exchange: ExchangeCreate | None = None
        if exchange is None:
            new_exchange = self._new_exchange(parsed)
        elif exchange.deleted_at is not None:
            raise _Refused("exchange", f"{parsed.slug} was deleted; restore it first")
        else:
            self._check_parties(exchange, parsed)
        data = self._stage_data(parsed, stage)
        if exchange is not None:
            slugs = {party.slug for party in writes.exchange_parties(self.session, exchange.id)}
        else:
            assert new_exchange is not None
            slugs = {party.slug for party in new_exchange.parties or []}
        _check_named(parsed.slug, slugs, data, new_exchange)
        if new_exchange is not None:
            exchange = writes.create_exchange(
                self.session,
                data=new_exchange,
                actor=self.actor,
                user_id=self.user_id,
                reason=IMPORT_REASON,
            )
            self.exchanges_created += 1
            self._slugs = None  # it may have brought new parties
        assert exchange is not None
        if stage is None:
            stage = writes.create_stage(
                self.session,
                exchange=exchange,
                data=data,
                actor=self.actor,
                user_id=self.user_id,
                reason=IMPORT_REASON,
            )
            assert stage.id is not None
            where = " in a new exchange" if new_exchange is not None else ""
            return "create", f"new stage{where}", stage.id
        assert stage.id is not None
        changed = writes.stage_changes(self.session, stage=stage, data=data)
        if not changed:
            return "unchanged", f"stage {stage.id} already matches", stage.id
        try:
            writes.update_stage(
                self.session,
                stage=stage,
                data=data,
                expected_version=stage.version,
                actor=self.actor,
                user_id=self.user_id,
                reason=IMPORT_REASON,
            )
        except writes.Conflict:
            raise ImportConflict(
                f"stage {stage.id} was saved by someone else during the import; nothing was"
                " saved, import again"
            ) from None
        return "update", f"stage {stage.id}: {', '.join(changed)} changed", stage.id

    def _new_exchange(self, parsed: _Stage) -> ExchangeCreate:
        title = parsed.shared.get("exchange_title", "").strip() or parsed.slug
        data: dict[str, Any] = {"slug": parsed.slug, "title": title, "status": NEW_EXCHANGE_STATUS}
        if parsed.sides is not None:
            names = [parsed.side_names.get(key, (DEFAULT_SIDE_NAMES[key], 0)) for key in SIDE_KEYS]
            (a, _), (b, line) = names
            if a.lower() == b.lower():  # the first API finds its parties by name, in any case
                raise _Refused("side_name", f"sides a and b are both {_shown(b)}", line or None)
            data["sides"] = [
                {"key": k, "name": n} for k, (n, _) in zip(SIDE_KEYS, names, strict=True)
            ]
        else:
            parties = _json_cell(parsed.shared, "exchange_parties") or self._new_parties(
                parsed.slug
            )
            if not parties:
                message = f"no release in the file names the parties of the new {parsed.slug}"
                raise _Refused("received_by", message)
            data |= {"parties": parties, "terms": _json_cell(parsed.shared, "exchange_terms") or []}
        conflict = parsed.shared.get("conflict", "").strip()
        if conflict:
            name = parsed.shared.get("conflict_name", "")
            name = name if name.strip() else conflict
            data["conflict"] = {"slug": conflict, "name": name}
        return _validated(ExchangeCreate.model_validate, data, "exchange")

    def _new_parties(self, slug: str) -> list[dict[str, Any]]:
        """A new exchange's parties from all its stages in the file: sides a and b first, then
        in the order they first receive, then release, oldest stage first."""
        named = [
            party
            for stage in sorted((s for s in self.parsed if s.slug == slug), key=lambda s: s.date)
            for party in stage.parties
        ]
        ordered = [p for key in SIDE_KEYS for p in named if p.side == key]
        ordered += [p for p in named if p.receives] + [p for p in named if not p.receives]
        names: dict[str, str] = {}
        for party in ordered:
            if not names.get(party.slug):
                names[party.slug] = party.name
        return [{"slug": party, "name": name or None} for party, name in names.items()]

    def _check_parties(self, exchange: Exchange, parsed: _Stage) -> None:
        """The rows' parties are the exchange's: a slug it does not have, or a side named after
        another party than the stored one, refuses the stage before anything is written."""
        parties = writes.exchange_parties(self.session, exchange.id)
        if parsed.sides is not None:
            if len(parties) != len(SIDE_KEYS):
                message = (
                    f"{exchange.slug} has {len(parties)} parties; give released_by and received_by"
                )
                raise _Refused("side", message, parsed.lines[0])
            stored: dict[str, str] = {
                key: party.name for key, party in zip(SIDE_KEYS, parties, strict=True)
            }
            for key, (name, line) in parsed.side_names.items():
                if stored[key] != name:
                    message = f"side {key} of {parsed.slug} is {_shown(stored[key])}"
                    raise _Refused("side_name", f"{message}, not {_shown(name)}", line)
            return
        slugs = {party.slug for party in parties}
        for release, line in zip(parsed.releases or [], parsed.lines, strict=True):
            for column in PARTY_COLUMNS:
                if release[column] not in slugs:
                    known = ", ".join(sorted(slugs))
                    message = f"{release[column]} is not a party of {exchange.slug} ({known})"
                    raise _Refused(column, message, line)

    def _stage_data(self, parsed: _Stage, stage: Stage | None) -> StageCreate:
        shared = parsed.shared
        stored = [] if stage is None else self._sources(stage)
        by_url = {source.url: source for source in reversed(stored)}
        urls = shared["source_urls"].split()
        publishers = _split(shared, "source_publishers", urls, _list_cell)
        assert publishers is not None  # a required column
        dates = _split(shared, "source_published_at", urls, _list_cell)
        claims = _split(shared, "source_claims", urls, _claims_cell)
        announcers = _split(shared, "source_announcers", urls, _list_cell)
        speakers = _split(shared, "source_speaks_for", urls, _list_cell)
        figures = _json_cell(shared, "source_figures")
        if figures is not None and len(figures) != len(urls):
            message = f"{len(figures)} list(s) of figures for {len(urls)} source URL(s)"
            raise _Refused("source_figures", message)
        sources = []
        for index, url in enumerate(urls):
            known = by_url.get(url)
            # What the file leaves out is kept as stored: the figures always, the rest when
            # its column is not in the file.
            source = {} if known is None else self._claimed(known)
            if dates is not None:
                text = dates[index].strip()
                source["published_at"] = _date(text, "source_published_at") if text else None
            for field, values in (
                ("claim", claims), ("announcer", announcers), ("speaks_for", speakers)
            ):  # fmt: skip
                if values is not None:
                    source[field] = values[index]
            if figures is not None:
                source["figures"] = figures[index]
            sources.append(source | {"url": url, "publisher": publishers[index]})
        if "disputed_reason" in shared:
            disputed_reason: str | None = shared["disputed_reason"].strip() or None
        else:
            disputed_reason = None if stage is None else stage.disputed_reason
        data: dict[str, Any] = {
            "date": parsed.date,
            "status": shared.get("status", "").strip() or None,
            "disputed_reason": disputed_reason,
            "notes": shared.get("notes", "" if stage is None else stage.notes),
            "published": True if stage is None else stage.published,
            "releases": parsed.releases,
            "sides": parsed.sides,
            "sources": sources,
        }
        validated = _validated(StageCreate.model_validate, data, "source_urls", parsed.lines)
        if disputed_reason is None and validated.disputed_reason is not None:
            # `status` disputed marked it; no need where its sources' figures dispute it anyway
            # (releases never make a stage disputed, so none are passed).
            unmarked = validated.model_copy(update={"disputed_reason": None})
            if writes.derived_status([], unmarked) == "disputed":
                return unmarked
        return validated

    def _claimed(self, source: Source) -> dict[str, Any]:
        """A stored source's announcer, whom it speaks for, claim, publication date and the
        figures its announcer gave."""
        if self._slugs is None:
            self._slugs = dict(self.session.execute(select(col(Party.id), col(Party.slug))).all())
        slugs = self._slugs
        snapshot = self.session.scalars(
            select(SourceFigure)
            .where(col(SourceFigure.source_id) == source.id)
            .order_by(col(SourceFigure.id))
        ).all()
        return {
            "announcer": source.announcer,
            "speaks_for": source.speaks_for,
            "published_at": source.published_at,
            "claim": source.claim,
            "figures": [
                figure.model_dump(exclude={"id", "source_id", "exchange_id"})
                | {"received_by": slugs.get(figure.received_by, "")}
                for figure in snapshot
            ],
        }

    def _sources(self, stage: Stage) -> list[Source]:
        query = select(Source).where(col(Source.stage_id) == stage.id)
        return list(self.session.scalars(query.order_by(col(Source.position))))


def _check_named(
    slug: str, slugs: set[str], data: StageCreate, new_exchange: ExchangeCreate | None
) -> None:
    """The parties the JSON cells name are the exchange's, refused before anything is written."""
    named = [
        ("source_figures", figure.received_by)
        for source in data.sources
        for figure in source.figures
    ]
    for terms in [] if new_exchange is None else new_exchange.terms or []:
        named += [("exchange_terms", target.received_by) for target in terms.targets]
        named += [
            ("exchange_terms", figure.received_by)
            for source in terms.sources
            for figure in source.figures
        ]
    for column, party in named:
        if party not in slugs:
            if not slugs:
                message = f"the parties of the new {slug} come from released_by and received_by"
            else:
                message = f"{party} is not a party of {slug} ({', '.join(sorted(slugs))})"
            raise _Refused(column, message)


def _list_cell(cell: str) -> list[str]:
    return cell.split(LIST_SEPARATOR)


def _claims_cell(cell: str) -> list[str]:
    return cell.split(CLAIM_SEPARATOR)


def _json_cell(shared: dict[str, str], column: str) -> list[Any] | None:
    """A JSON list cell (as `exports.json_cell` writes it); None when empty or not in the file.
    Whether its items are allowed is the write schema's to say."""
    cell = shared.get(column, "").strip()
    if not cell:
        return None
    try:
        value = json.loads(cell)
    except ValueError as error:
        raise _Refused(column, f"is not JSON: {error}") from None
    if not isinstance(value, list):
        raise _Refused(column, "must be a JSON list [...]")
    return value


def _split(
    shared: dict[str, str], column: str, urls: list[str], split: Callable[[str], list[str]]
) -> list[str] | None:
    """One value per source URL from a list cell; None when the column is not in the file."""
    if column not in shared:
        return None
    cell = shared[column]
    if len(urls) == 1:
        return [cell]  # one source: the whole cell, separators and all
    values = split(cell) if urls or cell else []
    if len(values) != len(urls):
        message = f"{len(values)} value(s) for {len(urls)} source URL(s)"
        raise _Refused(column, message)
    return values
