"""Migrations at start-up: replicas that upgrade at once take turns under an advisory lock."""

import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, inspect, text

from app.db import make_engine, metadata
from app.migrate import MIGRATION_LOCK_KEY, current_revisions, head_revisions

UPGRADE = "import sys; from app.migrate import upgrade; upgrade(sys.argv[1])"
WAITERS = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_upgrades_take_turns_and_reach_head(database_url: str) -> None:
    holder = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with holder.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        replicas = [
            subprocess.Popen([sys.executable, "-c", UPGRADE, database_url], stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 60
            while lock.execute(WAITERS).scalar_one() < len(replicas):
                assert all(replica.poll() is None for replica in replicas), "an upgrade ended"
                assert time.monotonic() < deadline, "the upgrades never waited for the lock"
                time.sleep(0.1)
            assert not inspect(lock).has_table("alembic_version")  # nobody went ahead
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        outcomes = [replica.communicate(timeout=120) for replica in replicas]
    holder.dispose()
    assert [replica.returncode for replica in replicas] == [0, 0], outcomes
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == set(metadata.tables) | {
            "alembic_version"
        }
        assert current_revisions(connection) == head_revisions()
    engine.dispose()
