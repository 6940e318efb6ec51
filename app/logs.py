"""Logs as one JSON object per line, each carrying the id of the request it was written for.

python-json-logger does the formatting (exceptions and `extra` fields included); the request id
comes from a context variable that the RequestContext middleware sets, so every record written
while a request is served carries it, from our code, SQLAlchemy or uvicorn alike. The access
log, one line per request, has a cheaper way through the same logger, handler and format
(`log_access`): it was a third of a cached widget's time.
"""

import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any, ClassVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a proxy may hand us as X-Request-ID: ids, not text; anything else gets a fresh id.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")
HANDLER_NAME = "swaptally-json"
APP_LOGGER = "swaptally"
ACCESS_LOGGER = "swaptally.access"
ACCESS_MESSAGE = "%s %s %d"  # method, path, status

access_log = logging.getLogger(ACCESS_LOGGER)
_encoder = json.JSONEncoder()  # python-json-logger's defaults: ASCII, ", " and ": "


def incoming_or_new_id(incoming: str | None) -> str:
    if incoming is not None and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)  # what uuid4().hex gives, without its version bits


class AccessRecord(logging.LogRecord):
    """An access line's record: what `Logger.info(..., extra=...)` would make, copied from one
    made per process and thread (the caller, thread and process it looks up each time are the
    same for every request), with the request's own fields and time."""

    _made: ClassVar[dict[tuple[int, int], dict[str, Any]]] = {}

    def __init__(self, method: str, path: str, status: int, duration_ms: float) -> None:
        where = (os.getpid(), threading.get_ident())
        made = self._made.get(where)
        if made is None:
            record = logging.LogRecord(
                ACCESS_LOGGER, logging.INFO, __file__, 0, ACCESS_MESSAGE, (), None, "log_access"
            )
            made = self._made[where] = vars(record)
        now = time.time()
        self.__dict__.update(made)
        self.args = (method, path, status)
        self.created = now
        self.msecs = int((now - int(now)) * 1000) + 0.0
        self.relativeCreated = made["relativeCreated"] + (now - made["created"]) * 1000
        # The `extra` fields, in the order RequestContext always gave them.
        self.method, self.path, self.status, self.duration_ms = method, path, status, duration_ms


def log_access(method: str, path: str, status: int, duration_ms: float) -> None:
    """One access line, through the access logger's level, filters and handlers like any record."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.handle(AccessRecord(method, path, status, duration_ms))


class _Formatter(JsonFormatter):
    """python-json-logger's format; an access record, whose fields are known, is written without
    its general walk over the record's attributes, to the same line (a test compares them)."""

    def format(self, record: logging.LogRecord) -> str:
        if type(record) is not AccessRecord or record.exc_info or record.stack_info:
            return super().format(record)
        record.message = record.getMessage()
        fields = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.message,
            "method": record.method,
            "path": record.path,
            "status": record.status,
            "duration_ms": record.duration_ms,
        }
        if hasattr(record, "request_id"):  # our handler's filter sets it
            fields["request_id"] = record.request_id
        fields["time"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat()
        return _encoder.encode(fields)


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
    return _Formatter(
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
