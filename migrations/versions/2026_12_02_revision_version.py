"""Revisions name the version they produced, so that two editors' saves can be merged.

Older revisions keep no version: a save based on one of them still gets the conflict screen
rather than a merge against a guessed base.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("revision") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
    op.create_index(
        "ix_revision_entity_entity_id_version", "revision", ["entity", "entity_id", "version"]
    )


def downgrade() -> None:
    op.drop_index("ix_revision_entity_entity_id_version", table_name="revision")
    with op.batch_alter_table("revision") as batch:
        batch.drop_column("version")
