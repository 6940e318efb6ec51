"""CSV import of exchanges and stages in the layout of `app.exports`, so that an export round-trips.

- Rows are grouped into stages by exchange slug and `stage_id`, or the date when `stage_id` is
  empty, with one row per side (`side` a or b). Cells the export repeats on each row of a stage
  (date, status, notes, sources, exchange title) must agree. Required columns: exchange, date,
  side, military, civilian, people, remains, source_urls, source_publishers. An optional column
  left out (stage_id, status, side_name, notes, exchange_title, source_published_at,
  source_claims) keeps what is stored, or the default for a new stage.
- Counts: empty is unknown; otherwise a whole number from 0 to 100000. Sources zip the URLs
  (space separated, http(s) only) with the publishers and publication dates ("; " separated, an
  unknown date empty) and claims (one per line). The apostrophe `exports.defuse` puts before
  formula-like text is removed.
- A stage matches a stored stage of its exchange: the one with its `stage_id` on the same date,
  else the oldest on its date not matched yet, else the one with its `stage_id` (a new date). It
  is updated (reason "CSV import") only if something differs, so importing a file twice changes
  nothing. Other stages are created, published, and so is an unknown exchange (status completed,
  title from exchange_title or the slug, side names from side_name). Stored exchanges never
  change; a stored stage keeps its draft or published state.
- A stage with an invalid cell is refused, naming the column, and nothing of it is written; the
  others are saved in one transaction, rolled back for a dry run.
"""

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from app import writes
from app.exports import CLAIM_SEPARATOR, LIST_SEPARATOR, undefuse
from app.models import (
    MARKED_DISPUTED,
    SIDE_KEYS,
    SLUG_PATTERN,
    Exchange,
    ExchangeCreate,
    Party,
    Source,
    SourceFigure,
    Stage,
    StageCreate,
    StageSideCreate,
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
    "exchange", "date", "side", "military", "civilian", "people", "remains",
    "source_urls", "source_publishers",
)  # fmt: skip
COUNT_COLUMNS = ("military", "civilian", "people", "remains")
# Every row of a stage repeats these; "exchange" and "stage_id" (or "date") group the rows.
STAGE_COLUMNS = (
    "date", "status", "notes", "source_urls", "source_publishers", "source_published_at",
    "source_claims", "exchange_title",
)  # fmt: skip
SCHEMA_COLUMNS = {
    "slug": "exchange", "title": "exchange_title", "key": "side", "name": "side_name",
    "url": "source_urls", "publisher": "source_publishers",
    "published_at": "source_published_at", "claim": "source_claims",
}  # fmt: skip
DEFAULT_SIDE_NAMES = {"a": "Ukraine", "b": "Russia"}  # as in ExchangeCreate
MAX_COUNT = 100_000
MAX_STAGE_ID = 2**31 - 1  # larger ids cannot be stored, so cannot match
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


@dataclasses.dataclass
class _Stage:
    """The cells of one stage's rows, checked but not yet validated against the schemas."""

    slug: str
    stage_id: int | None
    date: dt.date
    shared: dict[str, str]
    sides: list[dict[str, Any]]
    side_names: dict[str, tuple[str, int]]


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
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if missing or repeated:
        problem = "missing required column(s)" if missing else "repeated column(s)"
        names = ", ".join(missing or repeated)
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
            elif len(record) != len(header):
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
    stage_id = row.cells.get("stage_id", "").strip()
    by = f"id {stage_id}" if stage_id else f"date {row.cells['date'].strip()}"
    return row.cells["exchange"].strip(), by


def _stage_id(row: _Row) -> int | None:
    text = row.cells.get("stage_id", "").strip()
    if not text:
        return None
    match = WHOLE_NUMBER.fullmatch(text)
    if match is None or match[1]:
        raise _Refused("stage_id", f"must be a stage number, not {_shown(text)}", row.line)
    digits = match[2].lstrip("0")
    return int(digits) if digits and len(digits) <= len(str(MAX_STAGE_ID)) else MAX_STAGE_ID + 1


def _count(row: _Row, column: str) -> int | None:
    text = row.cells[column].strip()
    if not text:
        return None
    match = WHOLE_NUMBER.fullmatch(text)
    if match is None:
        raise _Refused(column, f"must be a whole number or empty, not {_shown(text)}", row.line)
    digits = match[2].lstrip("0") or "0"
    if match[1] and digits != "0":
        raise _Refused(column, "cannot be negative", row.line)
    if len(digits) > len(str(MAX_COUNT)) or int(digits) > MAX_COUNT:
        raise _Refused(column, f"cannot be more than {MAX_COUNT}", row.line)
    return int(digits)


def _date(text: str, column: str, line: int | None = None) -> dt.date:
    try:
        if ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise _Refused(column, f"must be a date as YYYY-MM-DD, not {_shown(text)}", line)


def _parse(rows: list[_Row]) -> _Stage:
    first = rows[0]
    if "" in first.cells:
        raise _Refused("row", first.cells[""], first.line)
    for row in rows:
        for column, cell in row.cells.items():
            if "\x00" in cell:
                raise _Refused(column, "contains a NUL character", row.line)
    slug = first.cells["exchange"].strip()
    if not SLUG_PATTERN.fullmatch(slug):
        raise _Refused(
            "exchange", f"must be a slug like istanbul-1000-for-1000, not {_shown(slug)}"
        )
    shared = {name: first.cells[name] for name in STAGE_COLUMNS if name in first.cells}
    for row in rows[1:]:
        for name, cell in shared.items():
            if row.cells[name] != cell:
                raise _Refused(name, f"differs from line {first.line} of the same stage", row.line)
    sides: list[dict[str, Any]] = []
    side_names: dict[str, tuple[str, int]] = {}
    for row in rows:
        key = row.cells["side"].strip()
        if key not in SIDE_KEYS:
            raise _Refused("side", f"must be a or b, not {_shown(key)}", row.line)
        if key in side_names:
            raise _Refused("side", f"side {key} has two rows in this stage", row.line)
        side_names[key] = (row.cells.get("side_name", ""), row.line)
        counts = {column: _count(row, column) for column in COUNT_COLUMNS}
        side = _validated(
            StageSideCreate.model_validate, {"key": key, **counts}, "people", row.line
        )
        sides.append(side.model_dump())
    for key in SIDE_KEYS:
        if key not in side_names:
            raise _Refused("side", f"side {key} has no row in this stage")
    return _Stage(
        slug=slug,
        stage_id=_stage_id(first),
        date=_date(shared["date"].strip(), "date", first.line),
        shared=shared,
        sides=sorted(sides, key=lambda side: str(side["key"])),
        side_names={key: name for key, name in side_names.items() if name[0]},
    )


def _validated(
    validate: Callable[[dict[str, Any]], T],
    data: dict[str, Any],
    field: str,
    line: int | None = None,
) -> T:
    """`validate(data)`, or _Refused naming the CSV column of the first error (else `field`)."""
    try:
        return validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        names = [part for part in first["loc"] if isinstance(part, str)]
        column = SCHEMA_COLUMNS.get(names[-1], names[-1]) if names else field
        message = str(first["msg"]).removeprefix("Value error, ")
        if isinstance(first["input"], str):
            message = f"{_shown(first['input'])}: {message}"
        raise _Refused(column, message, line) from None


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

    def run(self, rows_by_stage: list[list[_Row]], *, dry_run: bool) -> list[ImportEntry]:
        groups = [_Group(rows) for rows in rows_by_stage]
        for group in groups:
            try:
                group.parsed = _parse(group.rows)
            except _Refused as refusal:
                group.refusal = refusal
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
            self._check_side_names(exchange, parsed)
        data = self._stage_data(parsed, stage)
        if new_exchange is not None:
            exchange = writes.create_exchange(
                self.session,
                data=new_exchange,
                actor=self.actor,
                user_id=self.user_id,
                reason=IMPORT_REASON,
            )
            self.exchanges_created += 1
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
        sides = [
            {"key": key, "name": parsed.side_names.get(key, (DEFAULT_SIDE_NAMES[key], 0))[0]}
            for key in SIDE_KEYS
        ]
        data = {"slug": parsed.slug, "title": title, "status": NEW_EXCHANGE_STATUS, "sides": sides}
        return _validated(ExchangeCreate.model_validate, data, "exchange")

    def _check_side_names(self, exchange: Exchange, parsed: _Stage) -> None:
        parties = writes.exchange_parties(self.session, exchange.id)
        stored = {key: party.name for key, party in zip(SIDE_KEYS, parties, strict=False)}
        for key, (name, line) in parsed.side_names.items():
            if stored.get(key) != name:
                message = f"side {key} of {parsed.slug} is {_shown(stored.get(key, ''))}"
                raise _Refused("side_name", f"{message}, not {_shown(name)}", line)

    def _stage_data(self, parsed: _Stage, stage: Stage | None) -> StageCreate:
        shared = parsed.shared
        stored = [] if stage is None else self._sources(stage)
        by_url = {source.url: source for source in reversed(stored)}
        urls = shared["source_urls"].split()
        publishers = _split(shared, "source_publishers", urls, _list_cell)
        assert publishers is not None  # a required column
        dates = _split(shared, "source_published_at", urls, _list_cell)
        claims = _split(shared, "source_claims", urls, _claims_cell)
        sources = []
        for index, url in enumerate(urls):
            known = by_url.get(url)
            published_at: dt.date | None = None if known is None else known.published_at
            if dates is not None:
                text = dates[index].strip()
                published_at = _date(text, "source_published_at") if text else None
            claim = claims[index] if claims is not None else "" if known is None else known.claim
            sources.append(
                {
                    "url": url,
                    "publisher": publishers[index],
                    "published_at": published_at,
                    "claim": claim,
                    # Who said it and the figures they gave are not in the file: kept as stored.
                    **({} if known is None else self._claimed(known)),
                }
            )
        disputed_reason = None if stage is None else stage.disputed_reason
        marked = shared.get("status", "").strip() == "disputed"
        if marked and disputed_reason is None and (stage is None or stage.status != "disputed"):
            disputed_reason = MARKED_DISPUTED
        data = {
            "date": parsed.date,
            "disputed_reason": disputed_reason,
            "notes": shared.get("notes", "" if stage is None else stage.notes),
            "published": True if stage is None else stage.published,
            "sides": parsed.sides,
            "sources": sources,
        }
        return _validated(StageCreate.model_validate, data, "source_urls")

    def _claimed(self, source: Source) -> dict[str, Any]:
        snapshot = self.session.scalars(
            select(SourceFigure).where(col(SourceFigure.source_id) == source.id)
        ).all()
        slugs = dict(self.session.execute(select(col(Party.id), col(Party.slug))).all())
        return {
            "announcer": source.announcer,
            "speaks_for": source.speaks_for,
            "figures": [
                figure.model_dump(exclude={"id", "source_id"})
                | {"received_by": slugs.get(figure.received_by, "")}
                for figure in snapshot
            ],
        }

    def _sources(self, stage: Stage) -> list[Source]:
        query = select(Source).where(col(Source.stage_id) == stage.id)
        return list(self.session.scalars(query.order_by(col(Source.position))))


def _list_cell(cell: str) -> list[str]:
    return cell.split(LIST_SEPARATOR)


def _claims_cell(cell: str) -> list[str]:
    return cell.split(CLAIM_SEPARATOR)


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
