"""Settings: validated once, and the README's table stays in step with them."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import PROJECT_ROOT, Settings


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key="")
    assert Settings(environment="production", secret_key="s3cret").secret_key == "s3cret"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/swaptally")
    monkeypatch.setenv("BASE_URL", "https://swaptally.example")
    settings = Settings()
    assert (settings.database_url, settings.base_url) == (
        "postgresql+psycopg://db/swaptally",
        "https://swaptally.example",
    )


def test_readme_documents_every_setting() -> None:
    readme = Path(PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))
    assert documented == {name.upper() for name in Settings.model_fields}
