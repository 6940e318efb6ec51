"""Logs as one JSON object per line, each carrying the id of the request it was written for.

python-json-logger does the formatting (exceptions and `extra` fields included); the request id
comes from a context variable that the RequestContext middleware sets, so every record written
while a request is served carries it, from our code, SQLAlchemy or uvicorn alike.
"""

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a proxy may hand us as X-Request-ID: ids, not text; anything else gets a fresh id.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
HANDLER_NAME = "swaptally-json"
APP_LOGGER = "swaptally"


def incoming_or_new_id(incoming: str | None) -> str:
    if incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stderr as it is when a record comes (test runners swap it for their own)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.set_name(HANDLER_NAME)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # ISO 8601 in UTC
        # uvicorn adds an ANSI-coloured copy of its messages for terminals.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON through one handler on the root logger.

    Idempotent (each app and `swaptally serve` calls it); handlers that others installed, such
    as a test runner's, stay. Our loggers log at `level`, other libraries' at WARNING unless they
    set their own level (uvicorn does).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(json_formatter())
    root.addHandler(handler)
    logging.getLogger(APP_LOGGER).setLevel(level)
