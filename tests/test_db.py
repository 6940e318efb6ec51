"""Every SQLite connection runs with WAL, foreign keys, a busy timeout and a Unicode lower();
timestamps stay UTC."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from app.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, metadata
from tests.factories import make_exchange

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'swaptally.db'}")
    with engine.connect() as connection:
        pragmas = [
            connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        ]
    engine.dispose()
    assert pragmas == ["wal", 1, SQLITE_BUSY_TIMEOUT_MS]
    assert (tmp_path / "nested" / "swaptally.db").exists()


def test_timestamps_read_back_as_utc(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'swaptally.db'}")
    metadata.create_all(engine)
    with Session(engine) as session:
        exchange = make_exchange(session)
        session.expire_all()
        assert exchange.updated_at.tzinfo == dt.UTC
    engine.dispose()


def test_lower_folds_cyrillic_on_every_backend(session: Session) -> None:
    """Search lowercases both sides: SQLite by our function, PostgreSQL by a UTF-8 locale."""
    folded = session.execute(select(func.lower("КИЇВ Ґанок STRASSE"))).scalar_one()
    assert folded == "київ ґанок strasse"
