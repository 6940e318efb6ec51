"""Domain v2: conflicts, parties, terms over time, releases, claimed figures, official totals.

Each side of an exchange becomes a party (found by name, slug from the name) in the order a, b,
and the exchange joins the one conflict holding both; the sides' targets and the exchange's
planned stages become its original terms; each stage side becomes a release from the other party
(its remains a release of their own); sources keep their claims; a stage marked disputed keeps
that as its disputed reason; revisions that changed a published figure are stored as
corrections. The downgrade turns the first two parties back into sides a and b.

Alembic's batch mode recreates tables on SQLite without their triggers, so the data-revision
triggers are installed again at the end (the SQL is kept here, as in 0004, so that this revision
never changes).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:58:38.880872
"""

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TABLES = ("exchange", "exchange_side", "stage", "stage_side", "source")
NEW_TABLES = (
    "conflict", "party", "exchange", "exchange_party", "terms", "terms_target", "stage",
    "stage_release", "source", "source_figure", "official_total",
)  # fmt: skip
MARKED_DISPUTED = "Marked disputed before claims were recorded"
FIGURES = ("military", "civilian", "people", "remains")


def upgrade() -> None:
    _drop_triggers(OLD_TABLES)
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_stage_id_exchange_id"), ["id", "exchange_id"]
        )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_source_id_exchange_id"), ["id", "exchange_id"]
        )
    op.create_table(
        "conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_uk", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict")),
        sa.UniqueConstraint("slug", name=op.f("uq_conflict_slug")),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("name_uk", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party")),
        sa.UniqueConstraint("slug", name=op.f("uq_party_slug")),
    )
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_name"), ["name"], unique=False)

    op.create_table(
        "official_total",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conflict_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("figure", sa.Integer(), nullable=False),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("publisher", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("announcer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("published_at", sa.Date(), nullable=True),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "measure IN ('people', 'remains')", name=op.f("ck_official_total_measure_known")
        ),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'about', 'at_least')",
            name=op.f("ck_official_total_qualifier_known"),
        ),
        sa.CheckConstraint(
            "url LIKE 'http://%' OR url LIKE 'https://%'", name=op.f("ck_official_total_url_http")
        ),
        sa.CheckConstraint("figure >= 0", name=op.f("ck_official_total_figure_non_negative")),
        sa.ForeignKeyConstraint(
            ["conflict_id"],
            ["conflict.id"],
            name=op.f("fk_official_total_conflict_id_conflict"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["party.id"], name=op.f("fk_official_total_party_id_party")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_total")),
    )
    with op.batch_alter_table("official_total", schema=None) as batch_op:
        batch_op.create_index(
            "ix_official_total_conflict_id_party_id_as_of",
            ["conflict_id", "party_id", "as_of"],
            unique=False,
        )

    op.create_table(
        "exchange_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("official_number", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "official_number IS NULL OR official_number > 0",
            name=op.f("ck_exchange_party_official_number_positive"),
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_exchange_party_position_non_negative")),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchange.id"],
            name=op.f("fk_exchange_party_exchange_id_exchange"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["party.id"], name=op.f("fk_exchange_party_party_id_party")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_party")),
        sa.UniqueConstraint(
            "exchange_id", "party_id", name=op.f("uq_exchange_party_exchange_id_party_id")
        ),
        sa.UniqueConstraint(
            "exchange_id", "position", name=op.f("uq_exchange_party_exchange_id_position")
        ),
    )
    with op.batch_alter_table("exchange_party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_party_party_id"), ["party_id"], unique=False)

    op.create_table(
        "terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("planned_stages", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('original', 'amendment')", name=op.f("ck_terms_kind_known")),
        sa.CheckConstraint(
            "planned_stages IS NULL OR planned_stages > 0",
            name=op.f("ck_terms_planned_stages_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchange.id"],
            name=op.f("fk_terms_exchange_id_exchange"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms")),
        sa.UniqueConstraint("id", "exchange_id", name=op.f("uq_terms_id_exchange_id")),
    )
    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_terms_exchange_id_effective", ["exchange_id", "effective"], unique=False
        )

    op.create_table(
        "stage_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("military", sa.Integer(), nullable=True),
        sa.Column("civilian", sa.Integer(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("remains", sa.Integer(), nullable=True),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outside_deal", sa.Boolean(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "kind = 'living' OR (military IS NULL AND civilian IS NULL AND people IS NULL)",
            name=op.f("ck_stage_release_remains_have_no_people"),
        ),
        sa.CheckConstraint(
            "kind = 'remains' OR remains IS NULL",
            name=op.f("ck_stage_release_living_have_no_remains"),
        ),
        sa.CheckConstraint(
            "kind IN ('living', 'remains')", name=op.f("ck_stage_release_kind_known")
        ),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'about', 'at_least')",
            name=op.f("ck_stage_release_qualifier_known"),
        ),
        sa.CheckConstraint(
            "civilian IS NULL OR civilian >= 0", name=op.f("ck_stage_release_civilian_non_negative")
        ),
        sa.CheckConstraint(
            "military IS NULL OR military >= 0", name=op.f("ck_stage_release_military_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR military IS NULL OR civilian IS NULL OR people = military + civilian",
            name=op.f("ck_stage_release_people_is_sum"),
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= 0", name=op.f("ck_stage_release_people_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= COALESCE(military, 0) + COALESCE(civilian, 0)",
            name=op.f("ck_stage_release_people_covers_parts"),
        ),
        sa.CheckConstraint("released_by <> received_by", name=op.f("ck_stage_release_two_parties")),
        sa.CheckConstraint(
            "remains IS NULL OR remains >= 0", name=op.f("ck_stage_release_remains_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id", "received_by"],
            ["exchange_party.exchange_id", "exchange_party.party_id"],
            name="fk_stage_release_received_by_exchange_party",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id", "released_by"],
            ["exchange_party.exchange_id", "exchange_party.party_id"],
            name="fk_stage_release_released_by_exchange_party",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id", "exchange_id"],
            ["stage.id", "stage.exchange_id"],
            name="fk_stage_release_stage_id_stage",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_release")),
    )
    with op.batch_alter_table("stage_release", schema=None) as batch_op:
        batch_op.create_index("ix_stage_release_stage_id", ["stage_id"], unique=False)

    op.create_table(
        "terms_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("terms_id", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("military", sa.Integer(), nullable=True),
        sa.Column("civilian", sa.Integer(), nullable=True),
        sa.Column("remains", sa.Integer(), nullable=True),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'about', 'at_least')",
            name=op.f("ck_terms_target_qualifier_known"),
        ),
        sa.CheckConstraint(
            "civilian IS NULL OR civilian >= 0", name=op.f("ck_terms_target_civilian_non_negative")
        ),
        sa.CheckConstraint(
            "military IS NULL OR military >= 0", name=op.f("ck_terms_target_military_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= 0", name=op.f("ck_terms_target_people_non_negative")
        ),
        sa.CheckConstraint(
            "remains IS NULL OR remains >= 0", name=op.f("ck_terms_target_remains_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id", "received_by"],
            ["exchange_party.exchange_id", "exchange_party.party_id"],
            name="fk_terms_target_received_by_exchange_party",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["terms_id", "exchange_id"],
            ["terms.id", "terms.exchange_id"],
            name="fk_terms_target_terms_id_terms",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_target")),
        sa.UniqueConstraint(
            "terms_id", "received_by", name=op.f("uq_terms_target_terms_id_received_by")
        ),
    )
    op.create_table(
        "source_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exchange_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("received_by", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("military", sa.Integer(), nullable=True),
        sa.Column("civilian", sa.Integer(), nullable=True),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("remains", sa.Integer(), nullable=True),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.CheckConstraint(
            "kind = 'living' OR (military IS NULL AND civilian IS NULL AND people IS NULL)",
            name=op.f("ck_source_figure_remains_have_no_people"),
        ),
        sa.CheckConstraint(
            "kind = 'remains' OR remains IS NULL",
            name=op.f("ck_source_figure_living_have_no_remains"),
        ),
        sa.CheckConstraint(
            "kind IN ('living', 'remains')", name=op.f("ck_source_figure_kind_known")
        ),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'about', 'at_least')",
            name=op.f("ck_source_figure_qualifier_known"),
        ),
        sa.CheckConstraint(
            "civilian IS NULL OR civilian >= 0", name=op.f("ck_source_figure_civilian_non_negative")
        ),
        sa.CheckConstraint(
            "military IS NULL OR military >= 0", name=op.f("ck_source_figure_military_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR military IS NULL OR civilian IS NULL OR people = military + civilian",
            name=op.f("ck_source_figure_people_is_sum"),
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= 0", name=op.f("ck_source_figure_people_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= COALESCE(military, 0) + COALESCE(civilian, 0)",
            name=op.f("ck_source_figure_people_covers_parts"),
        ),
        sa.CheckConstraint(
            "remains IS NULL OR remains >= 0", name=op.f("ck_source_figure_remains_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id", "received_by"],
            ["exchange_party.exchange_id", "exchange_party.party_id"],
            name="fk_source_figure_received_by_exchange_party",
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id", "exchange_id"],
            ["source.id", "source.exchange_id"],
            name="fk_source_figure_source_id_source",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_figure")),
    )
    with op.batch_alter_table("source_figure", schema=None) as batch_op:
        batch_op.create_index("ix_source_figure_source_id", ["source_id"], unique=False)

    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conflict_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("title_uk", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
        batch_op.add_column(sa.Column("summary_uk", sa.Text(), nullable=True))
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_correction", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_constraint(op.f("ck_revision_entity_known"), type_="check")
        batch_op.create_check_constraint(
            "entity_known", "entity IN ('exchange', 'stage', 'terms', 'official_total')"
        )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("announcer", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("speaks_for", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.create_index("ix_source_terms_id", ["terms_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_source_terms_id_terms"),
            "terms",
            ["terms_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputed_reason", sa.Text(), nullable=True))

    _convert(op.get_bind())

    op.drop_table("stage_side")
    with op.batch_alter_table("exchange_side", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_side_name"))
    op.drop_table("exchange_side")
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.alter_column("conflict_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_exchange_conflict_id"), ["conflict_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_exchange_conflict_id_conflict"), "conflict", ["conflict_id"], ["id"]
        )
        batch_op.drop_constraint(op.f("ck_exchange_planned_stages_positive"), type_="check")
        batch_op.drop_column("planned_stages")
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.alter_column("is_correction", existing_type=sa.Boolean(), server_default=None)
    _create_triggers(NEW_TABLES)


def downgrade() -> None:
    _drop_triggers(NEW_TABLES)
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_stages", sa.INTEGER(), nullable=True))
        batch_op.create_check_constraint(
            "planned_stages_positive", "planned_stages IS NULL OR planned_stages > 0"
        )
    op.create_table(
        "exchange_side",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("exchange_id", sa.INTEGER(), nullable=False),
        sa.Column("key", sa.VARCHAR(length=1), nullable=False),
        sa.Column("name", sa.VARCHAR(length=120), nullable=False),
        sa.Column("target_people", sa.INTEGER(), nullable=True),
        sa.Column("target_military", sa.INTEGER(), nullable=True),
        sa.Column("target_civilian", sa.INTEGER(), nullable=True),
        sa.Column("target_remains", sa.INTEGER(), nullable=True),
        sa.CheckConstraint("key IN ('a', 'b')", name=op.f("ck_exchange_side_key_known")),
        sa.CheckConstraint(
            "target_civilian IS NULL OR target_civilian >= 0",
            name=op.f("ck_exchange_side_target_civilian_non_negative"),
        ),
        sa.CheckConstraint(
            "target_military IS NULL OR target_military >= 0",
            name=op.f("ck_exchange_side_target_military_non_negative"),
        ),
        sa.CheckConstraint(
            "target_people IS NULL OR target_people >= 0",
            name=op.f("ck_exchange_side_target_people_non_negative"),
        ),
        sa.CheckConstraint(
            "target_remains IS NULL OR target_remains >= 0",
            name=op.f("ck_exchange_side_target_remains_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["exchange.id"],
            name=op.f("fk_exchange_side_exchange_id_exchange"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_side")),
        sa.UniqueConstraint("exchange_id", "key", name=op.f("uq_exchange_side_exchange_id_key")),
    )
    with op.batch_alter_table("exchange_side", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_side_name"), ["name"], unique=False)

    op.create_table(
        "stage_side",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("stage_id", sa.INTEGER(), nullable=False),
        sa.Column("key", sa.VARCHAR(length=1), nullable=False),
        sa.Column("military", sa.INTEGER(), nullable=True),
        sa.Column("civilian", sa.INTEGER(), nullable=True),
        sa.Column("people", sa.INTEGER(), nullable=True),
        sa.Column("remains", sa.INTEGER(), nullable=True),
        sa.CheckConstraint("key IN ('a', 'b')", name=op.f("ck_stage_side_key_known")),
        sa.CheckConstraint(
            "civilian IS NULL OR civilian >= 0", name=op.f("ck_stage_side_civilian_non_negative")
        ),
        sa.CheckConstraint(
            "military IS NULL OR military >= 0", name=op.f("ck_stage_side_military_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR military IS NULL OR civilian IS NULL OR people = military + civilian",
            name=op.f("ck_stage_side_people_is_sum"),
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= 0", name=op.f("ck_stage_side_people_non_negative")
        ),
        sa.CheckConstraint(
            "people IS NULL OR people >= COALESCE(military, 0) + COALESCE(civilian, 0)",
            name=op.f("ck_stage_side_people_covers_parts"),
        ),
        sa.CheckConstraint(
            "remains IS NULL OR remains >= 0", name=op.f("ck_stage_side_remains_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stage.id"],
            name=op.f("fk_stage_side_stage_id_stage"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_side")),
        sa.UniqueConstraint("stage_id", "key", name=op.f("uq_stage_side_stage_id_key")),
    )

    _convert_back(op.get_bind())

    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.drop_column("disputed_reason")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_source_terms_id_terms"), type_="foreignkey")
        batch_op.drop_index("ix_source_terms_id")
        batch_op.drop_column("speaks_for")
        batch_op.drop_column("announcer")
        batch_op.drop_column("terms_id")
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_revision_entity_known"), type_="check")
        batch_op.create_check_constraint("entity_known", "entity IN ('exchange', 'stage')")
        batch_op.drop_column("is_correction")
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exchange_conflict_id_conflict"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_exchange_conflict_id"))
        batch_op.drop_column("summary_uk")
        batch_op.drop_column("title_uk")
        batch_op.drop_column("conflict_id")
    with op.batch_alter_table("source_figure", schema=None) as batch_op:
        batch_op.drop_index("ix_source_figure_source_id")

    op.drop_table("source_figure")
    op.drop_table("terms_target")
    with op.batch_alter_table("stage_release", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_release_stage_id")

    op.drop_table("stage_release")
    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.drop_index("ix_terms_exchange_id_effective")

    op.drop_table("terms")
    with op.batch_alter_table("exchange_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_party_party_id"))

    op.drop_table("exchange_party")
    with op.batch_alter_table("official_total", schema=None) as batch_op:
        batch_op.drop_index("ix_official_total_conflict_id_party_id_as_of")

    op.drop_table("official_total")
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_name"))

    op.drop_table("party")
    op.drop_table("conflict")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_source_id_exchange_id"), type_="unique")
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_stage_id_exchange_id"), type_="unique")
    _create_triggers(OLD_TABLES)


# ---- data ----------------------------------------------------------------------------------


def _slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "party"


def _json(value: Any) -> Any:
    """A JSON column as the driver gives it: text on SQLite, parsed on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _insert(bind: sa.Connection, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    bind.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
    return int(bind.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar_one())


def _unique(bind: sa.Connection, table: str, base: str) -> str:
    slug, number = base, 1
    while bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE slug = :s"), {"s": slug}).first():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _convert(bind: sa.Connection) -> None:
    parties: dict[str, int] = {}  # by lower-cased name
    conflicts: dict[frozenset[int], int] = {}
    sides: dict[int, dict[str, Any]] = {}
    rows = bind.execute(sa.text("SELECT * FROM exchange_side ORDER BY exchange_id, key"))
    for side in rows.mappings().all():
        sides.setdefault(side["exchange_id"], {})[side["key"]] = side
        name = side["name"]
        if name.lower() not in parties:
            slug = _unique(bind, "party", _slugify(name))
            parties[name.lower()] = _insert(bind, "party", {"slug": slug, "name": name})
    exchanges = bind.execute(sa.text("SELECT id, agreed_on, planned_stages FROM exchange")).all()
    keyed: dict[int, dict[str, int]] = {}  # exchange id -> side key -> party id
    for exchange_id, agreed_on, planned_stages in exchanges:
        by_key = {key: parties[side["name"].lower()] for key, side in sides[exchange_id].items()}
        keyed[exchange_id] = by_key
        pair = frozenset(by_key.values())
        if pair not in conflicts:
            names = [sides[exchange_id][key]["name"] for key in sorted(by_key)]
            name = "-".join(names)
            conflicts[pair] = _insert(
                bind, "conflict", {"slug": _unique(bind, "conflict", _slugify(name)), "name": name}
            )
        bind.execute(
            sa.text("UPDATE exchange SET conflict_id = :c WHERE id = :e"),
            {"c": conflicts[pair], "e": exchange_id},
        )
        terms_id = _insert(
            bind,
            "terms",
            {
                "exchange_id": exchange_id,
                "effective": agreed_on,
                "kind": "original",
                "planned_stages": planned_stages,
                "note": "",
            },
        )
        for position, key in enumerate(sorted(by_key)):
            side = sides[exchange_id][key]
            _insert(
                bind,
                "exchange_party",
                {"exchange_id": exchange_id, "party_id": by_key[key], "position": position},
            )
            _insert(
                bind,
                "terms_target",
                {
                    "exchange_id": exchange_id,
                    "terms_id": terms_id,
                    "received_by": by_key[key],
                    **{name: side[f"target_{name}"] for name in FIGURES},
                    "qualifier": "exact",
                },
            )
    _convert_stages(bind, keyed)
    _mark_corrections(bind)


def _convert_stages(bind: sa.Connection, keyed: dict[int, dict[str, int]]) -> None:
    rows = (
        bind.execute(
            sa.text(
                "SELECT stage_side.*, stage.exchange_id FROM stage_side"
                " JOIN stage ON stage.id = stage_side.stage_id ORDER BY stage_side.stage_id, key"
            )
        )
        .mappings()
        .all()
    )
    positions: dict[int, int] = {}
    for side in rows:
        by_key = keyed[side["exchange_id"]]
        received, released = by_key[side["key"]], by_key["b" if side["key"] == "a" else "a"]
        base = {"stage_id": side["stage_id"], "released_by": released, "received_by": received}
        base |= {"exchange_id": side["exchange_id"]}
        base |= {"qualifier": "exact", "outside_deal": False, "categories": "{}"}
        living = [side["military"], side["civilian"], side["people"]]
        # A side always has its living figures (known or not), and its remains beside them.
        releases = [
            base
            | {"kind": "living", "remains": None}
            | dict(zip(("military", "civilian", "people"), living, strict=True))
        ]
        if side["remains"] is not None:
            releases.append(
                base
                | {"kind": "remains", "remains": side["remains"]}
                | dict.fromkeys(("military", "civilian", "people"))
            )
        for release in releases:
            position = positions.get(side["stage_id"], 0)
            positions[side["stage_id"]] = position + 1
            bind.execute(
                sa.text(
                    "INSERT INTO stage_release (exchange_id, stage_id, position, released_by,"
                    " received_by, kind, military, civilian, people, remains, qualifier,"
                    " outside_deal, categories) VALUES (:exchange_id, :stage_id, :position,"
                    " :released_by, :received_by,"
                    " :kind, :military, :civilian, :people, :remains, :qualifier,"
                    " :outside_deal, :categories)"
                ).bindparams(sa.bindparam("categories", type_=sa.JSON())),
                release | {"position": position, "categories": {}},
            )
    bind.execute(
        sa.text("UPDATE stage SET disputed_reason = :reason WHERE status = 'disputed'"),
        {"reason": MARKED_DISPUTED},
    )
    # Status is derived from the sources' figures now, and none were recorded before.
    bind.execute(sa.text("UPDATE stage SET status = 'reported' WHERE status = 'confirmed'"))


def _figures(snapshot: dict[str, Any], shown: str) -> list[Any]:
    sides = sorted(snapshot.get("sides", []), key=lambda side: str(side.get("key")))
    if shown == "target":
        return [side.get("target") for side in sides]
    return [[side.get(name) for name in FIGURES] for side in sides]


def _mark_corrections(bind: sa.Connection) -> None:
    """The rule pages applied before, now decided once and stored on the revision."""
    revisions = bind.execute(
        sa.text("SELECT id, entity, before, after FROM revision WHERE action = 'update'")
    ).all()
    for revision_id, entity, before, after in revisions:
        before, after = _json(before), _json(after)
        if not before or not after or not before.get("published"):
            continue
        shown = "target" if entity == "exchange" else "figures"
        if _figures(before, shown) != _figures(after, shown):
            bind.execute(
                sa.text("UPDATE revision SET is_correction = :yes WHERE id = :id"),
                {"yes": True, "id": revision_id},
            )


def _convert_back(bind: sa.Connection) -> None:
    """The first two parties back into sides a and b (further parties have no place there)."""
    listed = bind.execute(
        sa.text(
            "SELECT exchange_party.exchange_id, exchange_party.position, party.id, party.name"
            " FROM exchange_party JOIN party ON party.id = exchange_party.party_id"
            " WHERE exchange_party.position < 2 ORDER BY exchange_party.exchange_id, position"
        )
    ).all()
    keys: dict[int, dict[int, str]] = {}
    for exchange_id, position, party_id, name in listed:
        key = "ab"[position]
        keys.setdefault(exchange_id, {})[party_id] = key
        terms = bind.execute(
            sa.text(
                "SELECT id, planned_stages FROM terms WHERE exchange_id = :e"
                " ORDER BY effective IS NOT NULL, effective, id"
            ),
            {"e": exchange_id},
        ).first()
        target = None
        if terms is not None:
            bind.execute(
                sa.text("UPDATE exchange SET planned_stages = :p WHERE id = :e"),
                {"p": terms[1], "e": exchange_id},
            )
            target = (
                bind.execute(
                    sa.text("SELECT * FROM terms_target WHERE terms_id = :t AND received_by = :p"),
                    {"t": terms[0], "p": party_id},
                )
                .mappings()
                .first()
            )
        _insert(
            bind,
            "exchange_side",
            {
                "exchange_id": exchange_id,
                "key": key,
                "name": name,
                **{f"target_{m}": target[m] if target else None for m in FIGURES},
            },
        )
    stages = bind.execute(sa.text("SELECT id, exchange_id FROM stage")).all()
    for stage_id, exchange_id in stages:
        releases = (
            bind.execute(
                sa.text("SELECT * FROM stage_release WHERE stage_id = :s AND outside_deal = :no"),
                {"s": stage_id, "no": False},
            )
            .mappings()
            .all()
        )
        for party_id, key in keys.get(exchange_id, {}).items():
            living = [r for r in releases if r["received_by"] == party_id and r["kind"] == "living"]
            remains = [
                r["remains"]
                for r in releases
                if r["received_by"] == party_id and r["kind"] == "remains"
            ]
            side: dict[str, Any] = {"stage_id": stage_id, "key": key}
            for name in ("military", "civilian", "people"):
                values = [r[name] for r in living]
                side[name] = None if not values or None in values else sum(values)
            side["remains"] = None if not remains or None in remains else sum(remains)
            _insert(bind, "stage_side", side)


# ---- data-revision triggers (as in 0004, over this revision's tables) ------------------------


def _drop_triggers(tables: Sequence[str]) -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for table in tables:
        if sqlite:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS data_revision_{table}_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS data_revision_bump ON {table}")


def _create_triggers(tables: Sequence[str]) -> None:
    sqlite = op.get_context().dialect.name == "sqlite"
    for table in tables:
        if sqlite:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER data_revision_{table}_{event} AFTER {event} ON {table} "
                    "BEGIN UPDATE data_revision SET value = value + 1 WHERE id = 1; END"
                )
        else:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER data_revision_bump AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION bump_data_revision()"
            )
