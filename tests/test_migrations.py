"""Models and migrations agree, and the migrations run both ways on SQLite and PostgreSQL."""

import pytest
from alembic import command
from sqlalchemy import inspect

from app import search
from app.db import make_engine, metadata
from app.migrate import alembic_config, downgrade, upgrade

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def table_names(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        # SQLite lists the text search's FTS5 tables too; tests/test_search.py checks those.
        return set(inspect(engine).get_table_names()) - search.sqlite_object_names()
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(database_url: str) -> None:
    upgrade(database_url)
    assert table_names(database_url) == set(metadata.tables) | {"alembic_version"}
    command.check(alembic_config(database_url))  # raises if models and migrations differ
    downgrade(database_url)
    assert table_names(database_url) == {"alembic_version"}
    upgrade(database_url)
    assert table_names(database_url) == set(metadata.tables) | {"alembic_version"}
