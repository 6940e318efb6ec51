"""Settings: validated once, and the README's table stays in step with them."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import PROJECT_ROOT, Settings


@pytest.mark.parametrize("environment", ["production", "test"])
def test_secret_key_is_required_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=environment, secret_key="")  # type: ignore[arg-type]
    assert Settings(environment="production", secret_key="s3cret").signing_secret() == "s3cret"


def test_development_keeps_a_random_key_in_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(environment="development", secret_key="")
    first = settings.signing_secret()
    assert len(first) >= 48
    assert settings.signing_secret() == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


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
