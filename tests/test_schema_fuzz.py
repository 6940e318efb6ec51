"""Schemathesis against the app's own /openapi.json, in process, on the bundled exchanges: the
read API and, with a token, the write API never answer 5xx and answer only as documented (status,
content type, headers, body schema), for valid and for invalid input alike."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.schemas import BaseSchema
from sqlmodel import Session

from app import accounts, seed
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.postgresql  # the database decides: see the README's "Tests"

# Bounded so that both backends fit in a few minutes on two cores; derandomized, so a failure
# found once is found again. Examples, coverage (boundaries, missing and wrong-typed fields) and
# fuzzing phases, positive and negative data.
FUZZ_CONFIG: dict[str, Any] = {
    "generation": {"mode": "all", "max-examples": 25, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        # A write without If-Match is 428 Precondition Required (RFC 6585, 3), the status made
        # for it, not one of Schemathesis's generic 4xx.
        "missing_required_header": {
            "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
        },
    },
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "cache": {"enabled": False},  # every run starts from nothing: reproducible, no files left
}


# The timeline's page token, as a `next` link gives it: the last stage's date and id.
schemathesis.openapi.format(
    "swaptally-page",
    st.builds(
        "{}~{}".format,
        st.dates(dt.date(2014, 1, 1), dt.date(2030, 12, 31)),
        st.integers(0, 10**6),
    ),
)


@pytest.fixture
def app_and_token(settings: Settings, session: Session) -> Iterator[tuple[FastAPI, str]]:
    """The app on the bundled exchanges, and an editor's API token."""
    seed.load(session)
    session.commit()
    editor = accounts.create_user(
        session, email="fuzz@example.org", password="correct horse battery", role="editor"
    )
    _, token = accounts.create_token(session, user=editor, name="schemathesis")
    session.commit()
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan around the whole run
        yield app, token


def load(app: FastAPI, token: str, **overrides: Any) -> BaseSchema:
    config = FUZZ_CONFIG | {"headers": {"Authorization": f"Bearer {token}"}} | overrides
    return schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=SchemathesisConfig.from_dict(config)
    )


def findings(schema: BaseSchema, *, covering: set[str]) -> list[str]:
    """Every failed check and engine error of a Schemathesis run, with a way to reproduce it;
    the run must have tested the operations named in `covering`."""
    found: list[str] = []
    tested: set[str] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.status != Status.SKIP:
            tested.add(event.label or "")
            for checks in event.recorder.checks.values():
                found += [
                    f"{event.label}: {check.name}: {check.failure_info.failure.title}\n"
                    f"{check.failure_info.code_sample}"
                    for check in checks
                    if check.failure_info is not None
                ]
        elif isinstance(event, events.NonFatalError):
            found.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    assert covering <= tested
    return sorted(set(found))


# Not every request the schema allows can be accepted, for reasons no schema can say: a
# timeline from one day to an earlier one, and a write that takes what is stored and today
# (a slug not taken, a known party, a stage not after tomorrow, the ETag you read) or rules
# across fields ("a published stage needs a source"). There, only a 422 is no finding.
NOT_SCHEMA_ALONE = FUZZ_CONFIG["checks"] | {"positive_data_acceptance": {"enabled": False}}


def test_api_answers_as_documented(app_and_token: tuple[FastAPI, str]) -> None:
    timeline = r"^/api/v1/stages(\.csv)?$"
    # Criteria of one include() must all hold; two include() calls would take either.
    reads = load(*app_and_token).include(path_regex=r"^/api/v1/", method="GET")
    reads = reads.exclude(path_regex=timeline)
    found = findings(reads, covering={"GET /api/v1/exchanges/{slug}", "GET /api/v1/totals"})
    rest = load(*app_and_token, checks=NOT_SCHEMA_ALONE).include(path_regex=r"^/api/v1/")
    rest = rest.exclude(method="GET", path_regex=r"^/api/v1/(?!stages(\.csv)?$)")
    writes = {"POST /api/v1/exchanges", "PATCH /api/v1/stages/{stage_id}"}
    found += findings(rest, covering=writes | {"GET /api/v1/stages", "GET /api/v1/stages.csv"})
    assert not found, "\n\n".join(found)


def test_pages_and_feeds_never_answer_5xx(app_and_token: tuple[FastAPI, str]) -> None:
    """The pages document only their 200 (their errors are pages, not API answers): here the
    one check is that no input makes them fail."""
    only_server_errors = {"enabled": False, "not_a_server_error": {"enabled": True}}
    schema = load(*app_and_token, checks=only_server_errors)
    pages = schema.exclude(path_regex=r"^/api/|^/oembed").include(method="GET")
    found = findings(pages, covering={"GET /exchanges/{slug}", "GET /exchanges/{slug}/feed.atom"})
    assert not found, "\n\n".join(found)


def test_oembed_answers_as_documented(app_and_token: tuple[FastAPI, str]) -> None:
    """oEmbed's 501 for a format other than json is the spec's (oembed.com, 2.3.4), so a 5xx
    alone is no finding here; any status it does not document (a 500) still is."""
    checks = FUZZ_CONFIG["checks"] | {"not_a_server_error": {"enabled": False}}
    schema = load(*app_and_token, checks=checks).include(path="/oembed")
    found = findings(schema, covering={"GET /oembed"})
    assert not found, "\n\n".join(found)
