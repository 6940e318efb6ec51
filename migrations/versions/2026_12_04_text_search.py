"""Text search through an index: FTS5 trigram tables on SQLite, pg_trgm GIN indexes on PostgreSQL.

The timeline's `q` read every stage, exchange and source with lower(column) LIKE '%q%'. Trigram
indexes keep that meaning (any part of a word, in any case) and find the rows without reading
them all: app/search.py says why trigrams and how the query uses them. On SQLite the FTS5 tables
are filled from the rows already there and triggers keep them in step; PostgreSQL keeps its own
indexes. The SQL is kept here, not imported from the app, so that this revision never changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = {
    "stage": ("notes",),
    "exchange": ("title", "title_uk", "description", "summary_uk"),
    "source": ("claim", "publisher", "announcer", "url"),
}


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        # pg_trgm is in PostgreSQL's contrib and trusted: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, columns in SEARCHED.items():
            operators = ", ".join(f"{column} gin_trgm_ops" for column in columns)
            op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin ({operators})")
        return
    for table, columns in SEARCHED.items():
        fts, names = f"{table}_search", ", ".join(columns)
        values = ", ".join(f"new.{column}" for column in columns)
        add = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {values});"
        remove = f"DELETE FROM {fts} WHERE rowid = old.id;"
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, tokenize = 'trigram')")
        op.execute(f"INSERT INTO {fts} (rowid, {names}) SELECT id, {names} FROM {table}")
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
        op.execute(
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, {names} ON {table} "
            f"BEGIN {remove} {add} END"
        )
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END")


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        for table in SEARCHED:
            op.execute(f"DROP INDEX ix_{table}_search")
        # The extension stays: something else in the database may use it, and it costs nothing.
        return
    for table in SEARCHED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_search_{event}")
        op.execute(f"DROP TABLE {table}_search")
