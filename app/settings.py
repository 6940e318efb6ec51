"""Settings: the only reader of the environment."""

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///./var/swaptally.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"

    @model_validator(mode="after")
    def _require_secret_outside_development(self) -> "Settings":
        if self.environment == "production" and not self.secret_key:
            raise ValueError("SECRET_KEY must be set when ENVIRONMENT is production")
        return self
