"""Sign-in limits: one counter row per hashed key (raised atomically) replaces a row per failure.

The failures of the last 15 minutes are carried over, so an upgrade lifts no limit in force.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000
"""

import datetime as dt
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOW = dt.timedelta(minutes=15)  # accounts.ATTEMPT_WINDOW when this revision was written


def upgrade() -> None:
    throttle = op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    attempt = sa.table("login_attempt", sa.column("key", sa.String), sa.column("at", sa.DateTime))
    since = dt.datetime.now(dt.UTC) - WINDOW
    recent = op.get_bind().execute(
        sa.select(attempt.c.key, sa.func.count(), sa.func.min(attempt.c.at))
        .where(attempt.c.at > since)
        .group_by(attempt.c.key)
    )
    # The old keys ("account:<email>", "client:<address>") are what the new code hashes.
    rows = [
        {
            "key": hashlib.sha256(key.encode()).hexdigest(),
            "attempts": count,
            "window_started_at": started,
        }
        for key, count, started in recent
    ]
    if rows:
        op.bulk_insert(throttle, rows)
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_key_at")
    op.drop_table("login_attempt")


def downgrade() -> None:
    # The counters' keys are hashes: they cannot become the old keys, so limits start afresh.
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_key_at", ["key", "at"], unique=False)
    op.drop_table("login_throttle")
