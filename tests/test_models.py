"""Write schemas refuse bad input with a message naming the field, before the database sees it."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.models import ExchangeCreate, SourceCreate, StageCreate, StageSideCreate
from tests.factories import SOURCE, exchange_data, stage_data


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"military": -1}, "greater than or equal to 0"),
        ({"military": 270, "civilian": 120, "people": 400}, r"must equal military \+ civilian"),
        ({"military": 270, "people": 100}, "cannot be fewer"),
        ({"key": "c"}, "Input should be 'a' or 'b'"),
    ],
)
def test_stage_side_refuses(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StageSideCreate.model_validate({"key": "a"} | fields)


def test_stage_side_derives_people_from_its_parts() -> None:
    side = StageSideCreate(key="a", military=270, civilian=120)
    assert side.people == 390


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("HTTPS://Example.org/Report?Q=A", "https://Example.org/Report?Q=A"),
        ("Http://example.org/x", "http://example.org/x"),
        ("  https://example.org/?  ", "https://example.org/?"),
    ],
)
def test_source_url_scheme_is_stored_in_lower_case(typed: str, stored: str) -> None:
    assert SourceCreate.model_validate(SOURCE | {"url": typed}).url == stored


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "DATA:text/html,x",
        "ftp://example.org/x",
        "example.org",
        "",
        "\x01https://example.org/",
        "ht\ttps://example.org/",
    ],
)
def test_source_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        SourceCreate.model_validate(SOURCE | {"url": url})


def test_published_stage_needs_a_source() -> None:
    with pytest.raises(ValidationError, match="needs at least one source"):
        stage_data(sources=[])
    assert stage_data(sources=[], published=False).sources == []


def test_stage_needs_both_sides_once() -> None:
    with pytest.raises(ValidationError, match="side 'a' and side 'b' once each"):
        StageCreate.model_validate(
            {"date": "2025-05-23", "sides": [{"key": "a"}, {"key": "a"}], "sources": [SOURCE]}
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"planned_stages": 0}, "planned_stages"),
        ({"sides": [{"key": "a", "name": "Ukraine"}]}, "side 'a' and side 'b'"),
        (
            {
                "sides": [
                    {"key": "a", "name": "U", "target": {"people": -1}},
                    {"key": "b", "name": "R"},
                ]
            },
            "Input should be greater than or equal to 0",
        ),
        ({"status": "done"}, "status"),
    ],
)
def test_exchange_refuses(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        exchange_data(**fields)


def test_exchange_defaults_to_ukraine_and_russia() -> None:
    exchange = ExchangeCreate(slug="x", title="X")
    assert [(s.key, s.name) for s in exchange.sides] == [("a", "Ukraine"), ("b", "Russia")]
