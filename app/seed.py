"""The bundled seed: real exchanges from public reporting, each figure with its source URL."""

import json
from importlib.resources import files

from sqlmodel import Session

from app import writes
from app.models import ExchangeCreate

SEED_ACTOR = "seed"


def bundled_exchanges() -> list[ExchangeCreate]:
    raw = json.loads(files("app").joinpath("data/exchanges.json").read_text(encoding="utf-8"))
    return [ExchangeCreate.model_validate(item) for item in raw["exchanges"]]


def load(session: Session) -> int:
    """Add the bundled exchanges not stored yet (idempotent); return how many were added."""
    return writes.seed_exchanges(session, exchanges=bundled_exchanges(), actor=SEED_ACTOR)
