"""Text search over stages: the index on both databases, and the condition the timeline uses.

A stage matches `q` when the text appears, in any case, inside its notes, its exchange's title,
Ukrainian title, summary or Ukrainian summary, or one of its sources' claim, publisher, announcer
or URL. Part of a word is enough ("Azov", "стамбул", "/sample/"), as with the first version's
`lower(column) LIKE '%q%'`, which read every row; this finds the same stages through an index.

Why trigrams, not words: word indexes (FTS5 `unicode61`, PostgreSQL's `simple` text search) find
whole words and prefixes, so "zovst" or a fragment of a URL would stop matching. Trigram
indexes find any substring of three characters or more:
- SQLite: FTS5 tables with the `trigram` tokenizer (`case_sensitive 0` folds Latin and Cyrillic
  alike), one per searched table, the row's id as rowid, kept in step by triggers. The query is
  one FTS5 string ("…", quotes doubled), so AND, OR, NEAR, *, - and the like are only text.
- PostgreSQL: pg_trgm GIN indexes on the same columns serve `ILIKE '%q%'`; PostgreSQL checks
  each row found against the ILIKE itself, so the result is exactly the ILIKE's.
Text shorter than three characters has no trigram: it falls back to scanning, as before. (FTS5
folds case by one-to-one mappings; the rare letter whose lower() is longer, such as "İ", may find
a little differently on SQLite than the scan did.)

Triggers, not the write path, keep SQLite's tables in step, so that no writer can forget (the
same reason as app/data_revision.py). Alembic's batch mode on SQLite recreates a table without
its triggers: a later migration that batch-alters stage, exchange or source must create them
again, as 0008 does (tests/test_search.py checks a migrated database's). Alembic
does not describe these objects (FTS5 virtual tables, pg_trgm operator classes): migrations/env.py
leaves them out of autogenerate, and tests/test_search.py compares them instead.
"""

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    column,
    exists,
    func,
    or_,
    select,
    table,
)
from sqlalchemy import text as sql_text
from sqlmodel import col

from app.models import Exchange, Source, Stage

MIN_INDEXED_LENGTH = 3  # a trigram
# The searched columns of each table. The SQLite FTS5 table is "{table}_search".
SEARCHED = {
    "stage": ("notes",),
    "exchange": ("title", "title_uk", "description", "summary_uk"),
    "source": ("claim", "publisher", "announcer", "url"),
}
FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
TRIGGER_EVENTS = ("insert", "update", "delete")  # each FTS5 table's triggers: "{fts}_{event}"
# PostgreSQL: one GIN index per table, over its searched columns.
TRIGRAM_INDEXES = {f"ix_{name}_search": name for name in SEARCHED}
# Never part of a search (PostgreSQL refuses NUL, FTS5 ends a string at it): the timeline's
# filters and the home table's search strip them as they read the query string.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def fts_table(name: str) -> str:
    return f"{name}_search"


def sqlite_object_names() -> set[str]:
    """Every table SQLite lists for the search: the FTS5 tables and their shadow tables."""
    return {fts_table(name) + suffix for name in SEARCHED for suffix in ("", *FTS5_SHADOW_SUFFIXES)}


# ---- the index ---------------------------------------------------------------------------


def sqlite_trigger_statements() -> list[str]:
    """The triggers that keep each FTS5 table equal to its table's searched columns."""
    statements = []
    for name, columns in SEARCHED.items():
        fts = fts_table(name)
        names = ", ".join(columns)
        values = ", ".join(f"new.{c}" for c in columns)
        add = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {values});"
        remove = f"DELETE FROM {fts} WHERE rowid = old.id;"
        statements += [
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {name} BEGIN {add} END",
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, {names} ON {name} "
            f"BEGIN {remove} {add} END",
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {name} BEGIN {remove} END",
        ]
    return statements


def sqlite_create_statements() -> list[str]:
    """The FTS5 tables filled from the rows already there, then their triggers."""
    statements = []
    for name, columns in SEARCHED.items():
        fts, names = fts_table(name), ", ".join(columns)
        statements += [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, tokenize = 'trigram')",
            f"INSERT INTO {fts} (rowid, {names}) SELECT id, {names} FROM {name}",
        ]
    return statements + sqlite_trigger_statements()


def sqlite_drop_statements() -> list[str]:
    """The triggers (they live on the searched tables), then the FTS5 tables and their shadows."""
    statements = []
    for name in SEARCHED:
        fts = fts_table(name)
        statements += [f"DROP TRIGGER IF EXISTS {fts}_{event}" for event in TRIGGER_EVENTS]
        statements.append(f"DROP TABLE IF EXISTS {fts}")
    return statements


def postgresql_create_statements() -> list[str]:
    statements = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
    for index, name in TRIGRAM_INDEXES.items():
        operators = ", ".join(f"{c} gin_trgm_ops" for c in SEARCHED[name])
        statements.append(f"CREATE INDEX IF NOT EXISTS {index} ON {name} USING gin ({operators})")
    return statements


def create_index(_metadata: Any, connection: Connection, **_kw: Any) -> None:
    """After `metadata.create_all`: what migration 0008 does for migrated databases."""
    if connection.dialect.name == "sqlite":
        # Built anew from the rows there: create_all may meet tables it did not create, and FTS5
        # tables that outlived a drop_all (they are not in the metadata).
        statements = sqlite_drop_statements() + sqlite_create_statements()
    else:
        statements = postgresql_create_statements()
    for statement in statements:
        connection.execute(sql_text(statement))


def drop_index(_metadata: Any, connection: Connection, **_kw: Any) -> None:
    """Before `metadata.drop_all` (PostgreSQL's indexes go with their tables)."""
    if connection.dialect.name == "sqlite":
        for statement in sqlite_drop_statements():
            connection.execute(sql_text(statement))


# ---- the condition -----------------------------------------------------------------------


def stage_matches(q: str, *, dialect: str) -> ColumnElement[bool]:
    """Stages whose text contains `q`, in any case: a condition on Stage (joined to Exchange)."""
    words = CONTROL_CHARACTERS.sub("", q)
    if len(words) < MIN_INDEXED_LENGTH:
        return _scanned(words)
    found = _fts5_found(words) if dialect == "sqlite" else _trigram_found(words)
    return col(Stage.id).in_(found)


def _fts5_found(words: str) -> CompoundSelect[Any]:
    """The ids of the stages whose FTS5 rows hold `words`, as one quoted FTS5 string."""
    string = '"' + words.replace('"', '""') + '"'

    def hits(name: str) -> Any:
        fts = table(fts_table(name), column("rowid"), column(fts_table(name)))
        return fts, fts.c[fts_table(name)].op("MATCH")(string)

    stages, stage_hit = hits("stage")
    exchanges, exchange_hit = hits("exchange")
    sources, source_hit = hits("source")
    return (
        select(stages.c.rowid)
        .where(stage_hit)
        .union_all(
            select(col(Source.stage_id))
            .join(sources, sources.c.rowid == Source.id)
            .where(source_hit),
            select(col(Stage.id)).where(
                col(Stage.exchange_id).in_(select(exchanges.c.rowid).where(exchange_hit))
            ),
        )
    )


def _trigram_found(words: str) -> CompoundSelect[Any]:
    """The ids of the stages whose columns ILIKE `words`, each table through its GIN index."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", words) + "%"  # backslash: ILIKE's own escape

    def found(*columns: Any) -> ColumnElement[bool]:
        return or_(*(col(c).ilike(pattern) for c in columns))

    return (
        select(col(Stage.id))
        .where(found(Stage.notes))
        .union_all(
            select(col(Source.stage_id)).where(
                col(Source.stage_id).is_not(None),
                found(Source.claim, Source.publisher, Source.announcer, Source.url),
            ),
            select(col(Stage.id)).where(
                col(Stage.exchange_id).in_(
                    select(col(Exchange.id)).where(
                        found(Exchange.title, Exchange.title_uk, Exchange.description,
                              Exchange.summary_uk)
                    )
                )
            ),
        )
    )  # fmt: skip


def _scanned(words: str) -> ColumnElement[bool]:
    """Without an index: every row read, lower() on both sides (on SQLite, app/db.py makes
    lower() fold more than ASCII)."""
    lowered = words.lower()

    def found(*columns: Any) -> ColumnElement[bool]:
        return or_(*(func.lower(c).contains(lowered, autoescape=True) for c in columns))

    return or_(
        found(Stage.notes, Exchange.title, Exchange.title_uk, Exchange.description,
              Exchange.summary_uk),
        exists().where(
            col(Source.stage_id) == Stage.id,
            found(Source.claim, Source.publisher, Source.announcer, Source.url),
        ),
    )  # fmt: skip
