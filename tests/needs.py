"""What a test needs from the machine (PostgreSQL, nginx, Chromium) and what happens without it:
locally the tests that need it skip with the reason; in CI (CI=true) nothing may skip. Also what a
Ukrainian case needs from the catalogue."""

import os
from typing import NoReturn

import pytest
from babel.messages.pofile import read_po

from app.settings import PROJECT_ROOT

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, reason: object) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} not available here: {reason}")


def untranslated(*msgids: str) -> pytest.MarkDecorator:
    """Skip a Ukrainian case until the catalogue translates these messages (new wording is
    written first and translated in the catalogue's next update); in CI it must be translated."""
    with (PROJECT_ROOT / "locale/uk/LC_MESSAGES/messages.po").open("rb") as source:
        catalogue = read_po(source, locale="uk")
    missing = [msgid for msgid in msgids if not (catalogue.get(msgid) and catalogue[msgid].string)]
    return pytest.mark.skipif(
        bool(missing) and not IN_CI, reason=f"not yet in the Ukrainian catalogue: {missing}"
    )
