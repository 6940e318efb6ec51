"""Index sources by stage: stage pages and the timeline's text search look them up that way.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:29:26.167486
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index("ix_source_stage_id", ["stage_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index("ix_source_stage_id")
