"""The data revision: a counter that every change to public data moves forward, so that caches in
any worker or replica can tell with one primary-key read whether what they hold is still true.

Database triggers move it, not the app's code, so that no writer can forget: the editor, the API,
the importer, the seed and the bulk sample generator alike. On PostgreSQL the trigger is deferred
to commit and moves the counter once per transaction: writers take the counter's row lock last,
so they cannot deadlock on it, and the counter grows in commit order. SQLite lets one writer in at
a time, so a plain trigger per row is enough there.

Migrations 0004 and 0005 install the same triggers (migrations keep their own copy of the
SQL). Alembic's batch mode on SQLite recreates a table without its triggers: a later migration
that alters one of DATA_TABLES in batch mode must install them again; tests/test_caching.py
checks that a migrated database still counts every write.
"""

from typing import Any

from sqlalchemy import Connection, text

DATA_TABLES = (
    "conflict", "party", "exchange", "exchange_party", "terms", "terms_target", "stage",
    "stage_release", "source", "source_figure", "official_total",
)  # fmt: skip
ROW_ID = 1

_SEED_ROW = "INSERT INTO data_revision (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
_SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS data_revision_{table}_{event} AFTER {event} ON {table}
BEGIN UPDATE data_revision SET value = value + 1 WHERE id = 1; END
"""
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_data_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('swaptally.data_revision_bumped', true) IS DISTINCT FROM 'on' THEN
    UPDATE data_revision SET value = value + 1 WHERE id = 1;
    PERFORM set_config('swaptally.data_revision_bumped', 'on', true);
  END IF;
  RETURN NULL;
END $$
"""
_POSTGRES_TRIGGER = """
CREATE CONSTRAINT TRIGGER data_revision_bump AFTER INSERT OR UPDATE OR DELETE ON {table}
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_revision()
"""


def trigger_statements(dialect: str) -> list[str]:
    """The SQL that seeds the counter's row and makes every data table move it."""
    if dialect == "sqlite":
        return [_SEED_ROW] + [
            _SQLITE_TRIGGER.format(table=table, event=event)
            for table in DATA_TABLES
            for event in ("INSERT", "UPDATE", "DELETE")
        ]
    statements = [_SEED_ROW, _POSTGRES_FUNCTION]
    for table in DATA_TABLES:
        statements.append(f"DROP TRIGGER IF EXISTS data_revision_bump ON {table}")
        statements.append(_POSTGRES_TRIGGER.format(table=table))
    return statements


def create_triggers(_metadata: Any, connection: Connection, **_kw: Any) -> None:
    """After `metadata.create_all`: what migration 0004 does for migrated databases."""
    for statement in trigger_statements(connection.dialect.name):
        connection.execute(text(statement))


def read(connection: Connection) -> int | None:
    """The current revision; None if the counter's row is missing (then nothing may be cached)."""
    value = connection.execute(
        text("SELECT value FROM data_revision WHERE id = :id"), {"id": ROW_ID}
    ).scalar()
    return None if value is None else int(value)
