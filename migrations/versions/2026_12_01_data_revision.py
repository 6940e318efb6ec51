"""Data revision: one counter row that triggers move on every change to public data, so that
caches in every worker and replica know with one primary-key read when their copy went stale.

On PostgreSQL the trigger is deferred to commit and counts once per transaction: writers take the
counter's lock last (no deadlock) and the counter grows in commit order. The SQL is kept here, not
imported from the app, so that this revision never changes (app/data_revision.py has the same).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA_TABLES = ("exchange", "exchange_side", "stage", "stage_side", "source")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "data_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_revision")),
    )
    op.execute("INSERT INTO data_revision (id, value) VALUES (1, 0)")
    if op.get_context().dialect.name == "sqlite":
        for table in DATA_TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER data_revision_{table}_{event} AFTER {event} ON {table} "
                    "BEGIN UPDATE data_revision SET value = value + 1 WHERE id = 1; END"
                )
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION bump_data_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF current_setting('swaptally.data_revision_bumped', true) IS DISTINCT FROM 'on' THEN
            UPDATE data_revision SET value = value + 1 WHERE id = 1;
            PERFORM set_config('swaptally.data_revision_bumped', 'on', true);
          END IF;
          RETURN NULL;
        END $$
        """
    )
    for table in DATA_TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER data_revision_bump AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION bump_data_revision()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for table in DATA_TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER data_revision_{table}_{event}")
    else:
        for table in DATA_TABLES:
            op.execute(f"DROP TRIGGER data_revision_bump ON {table}")
        op.execute("DROP FUNCTION bump_data_revision()")
    op.drop_table("data_revision")
