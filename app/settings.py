"""Settings: the only reader of the environment."""

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///./var/swaptally.db"
PasswordHashing = Literal["recommended", "cheapest"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    # Seconds that browsers, proxies and CDNs may reuse an embed or API answer, then keep serving
    # it while they revalidate (app/caching.py).
    cache_max_age: int = Field(default=60, ge=0)
    cache_stale_while_revalidate: int = Field(default=600, ge=0)
    # Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma separated, or "*").
    forwarded_allow_ips: str = "127.0.0.1"
    # argon2id's parameters for passwords (app/accounts.py): "cheapest" is for the test suite's
    # served apps, which sign in many times, and production refuses it.
    password_hashing: PasswordHashing = "recommended"

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> "Settings":
        if self.environment != "development" and not self.secret_key:
            raise ValueError(f"SECRET_KEY must be set when ENVIRONMENT is {self.environment}")
        return self

    @model_validator(mode="after")
    def _cheap_passwords_never_in_production(self) -> "Settings":
        if self.password_hashing == "cheapest" and self.environment == "production":
            raise ValueError("PASSWORD_HASHING=cheapest is for tests, never production")
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def cookie_name(self, name: str) -> str:
        """Behind https, `__Host-`: browsers then accept the cookie only if it is Secure, for
        the whole site and no domain, so a sibling subdomain or plain http cannot plant it."""
        return f"__Host-{name}" if self.secure_cookies else name

    def signing_secret(self) -> str:
        """SECRET_KEY; in development without one, a random key kept in ./var/secret_key so
        sessions survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = Path("var/secret_key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
