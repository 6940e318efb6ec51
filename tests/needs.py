"""What a test needs from the machine (PostgreSQL, nginx, Chromium) and what happens without it:
locally the tests that need it skip with the reason; in CI (CI=true) nothing may skip."""

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, reason: object) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} not available here: {reason}")
