"""The database itself refuses impossible figures, whatever Python lets through."""

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tests.factories import make_exchange, stage_data


def stage_side_insert(engine: Engine, session: Session, column: str, value: int) -> None:
    exchange = make_exchange(session, stage_data())
    with engine.begin() as connection:
        stage_id = connection.execute(
            text("SELECT id FROM stage WHERE exchange_id = :id"), {"id": exchange.id}
        ).scalar_one()
        connection.execute(
            text("DELETE FROM stage_side WHERE stage_id = :id AND key = 'a'"), {"id": stage_id}
        )
        connection.execute(
            text(f"INSERT INTO stage_side (stage_id, key, {column}) VALUES (:stage, 'a', :value)"),
            {"stage": stage_id, "value": value},
        )


@pytest.mark.parametrize("column", ["military", "civilian", "people", "remains"])
def test_negative_count_is_refused_by_the_database(
    engine: Engine, session: Session, column: str
) -> None:
    with pytest.raises(IntegrityError, match="ck_stage_side_"):
        stage_side_insert(engine, session, column, -1)


def test_zero_count_is_accepted(engine: Engine, session: Session) -> None:
    stage_side_insert(engine, session, "military", 0)


def test_people_must_equal_military_plus_civilian(engine: Engine, session: Session) -> None:
    make_exchange(session, stage_data(a=(270, 120)))
    with pytest.raises(IntegrityError, match="people_is_sum"), engine.begin() as connection:
        connection.execute(text("UPDATE stage_side SET people = 400 WHERE key = 'a'"))


def test_negative_target_is_refused_by_the_database(engine: Engine, session: Session) -> None:
    make_exchange(session)
    with (
        pytest.raises(IntegrityError, match="target_people_non_negative"),
        engine.begin() as connection,
    ):
        connection.execute(text("UPDATE exchange_side SET target_people = -5"))


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
