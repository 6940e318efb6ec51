"""Alembic, driven from the app: upgrade to head on start-up and from the command line.

On PostgreSQL every upgrade and downgrade holds an advisory lock, so replicas that start at once
migrate one after the other: the first upgrades, the others wait, then find the schema at head.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from app.db import make_engine
from app.settings import PROJECT_ROOT

# Any constant shared by every replica: the bytes of "SWAPTALY" as a signed 64-bit key.
MIGRATION_LOCK_KEY = int.from_bytes(b"SWAPTALY", "big", signed=True)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


@cache
def head_revisions() -> frozenset[str]:
    """The revisions a fully migrated database is at (read once from the migration scripts)."""
    scripts = Config()
    scripts.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(scripts).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions the database is at; empty before the first migration."""
    return set(MigrationContext.configure(connection).get_current_heads())


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for the block; elsewhere, do nothing.

    The lock lives on its own autocommit connection, so it never holds a transaction open
    beside the migration's, and it is released if the process dies mid-way.
    """
    if make_url(database_url).get_backend_name() != "postgresql":
        yield
        return
    engine = make_engine(database_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    with migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    with migration_lock(database_url):
        command.downgrade(alembic_config(database_url), revision)
