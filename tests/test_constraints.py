"""The database itself refuses impossible figures, whatever Python lets through."""

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tests.factories import make_exchange, stage_data

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

UKRAINE_RECEIVES = "kind = 'living' AND received_by = (SELECT id FROM party WHERE slug = 'ukraine')"


def update_releases(engine: Engine, assignment: str, where: str = UKRAINE_RECEIVES) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE stage_release SET {assignment} WHERE {where}"))


@pytest.mark.parametrize(
    ("column", "assignment"),
    [
        ("military", "military = -1, people = NULL"),
        ("civilian", "civilian = -1, people = NULL"),
        ("people", "people = -1, military = NULL, civilian = NULL"),
    ],
)
def test_negative_count_is_refused_by_the_database(
    engine: Engine, session: Session, column: str, assignment: str
) -> None:
    make_exchange(session, stage_data())
    # Either check may fire first (PostgreSQL and SQLite order them differently); both refuse.
    with pytest.raises(IntegrityError, match=f"{column}_non_negative|people_covers_parts"):
        update_releases(engine, assignment)


def test_negative_remains_are_refused(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data(remains=(10, None)))
    with pytest.raises(IntegrityError, match="remains_non_negative"):
        update_releases(engine, "remains = -1", "kind = 'remains'")


def test_zero_count_is_accepted(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    update_releases(engine, "military = 0, civilian = 0, people = 0")


def test_people_must_equal_military_plus_civilian(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    with pytest.raises(IntegrityError, match="people_is_sum"):
        update_releases(engine, "people = 400")


def test_a_party_cannot_release_to_itself(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    with pytest.raises(IntegrityError, match="two_parties"):
        update_releases(engine, "released_by = received_by")


def test_remains_and_living_people_never_share_a_row(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    with pytest.raises(IntegrityError, match="living_have_no_remains"):
        update_releases(engine, "remains = 3")


def test_a_release_names_parties_of_its_exchange(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO party (slug, name) VALUES ('belarus', 'Belarus')"))
    with pytest.raises(IntegrityError):
        update_releases(engine, "received_by = (SELECT id FROM party WHERE slug = 'belarus')")


def test_a_release_belongs_to_its_stage_s_exchange(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    make_exchange(session, stage_data(), slug="another")
    with pytest.raises(IntegrityError):
        update_releases(engine, "exchange_id = (SELECT id FROM exchange WHERE slug = 'another')")


def test_negative_target_is_refused_by_the_database(engine: Engine, session: Session) -> None:
    make_exchange(session)
    with (
        pytest.raises(IntegrityError, match="people_non_negative"),
        engine.begin() as connection,
    ):
        connection.execute(text("UPDATE terms_target SET people = -5"))


def test_source_url_must_be_http(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data())
    with pytest.raises(IntegrityError, match="url_http"), engine.begin() as connection:
        connection.execute(text("UPDATE source SET url = 'javascript:alert(1)'"))


def test_stage_needs_an_existing_exchange(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO stage (exchange_id, date, status, notes, published, version,"
                " created_at, updated_at) VALUES (999, '2025-05-23', 'reported', '', true, 1,"
                " '2025-05-23', '2025-05-23')"
            )
        )
