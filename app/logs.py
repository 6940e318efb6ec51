"""Logs as one JSON object per line, each carrying the id of the request it was written for.

python-json-logger does the formatting (exceptions and `extra` fields included); the request id
comes from a context variable that the RequestContext middleware sets, so every record written
while a request is served carries it, from our code, SQLAlchemy or uvicorn alike. The access
log, one line per request, has a cheaper way to the same handler and line (`log_access`): it
was a third of a cached widget's time.
"""

import datetime as dt
import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

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


def log_access(method: str, path: str, status: int, duration_ms: float) -> None:
    """One access line: `METHOD path status`, with those fields, the duration and the id.

    With logging as `configure` sets it up (our handler alone on the root, nothing on the way),
    the line is written to that handler's stream directly: the same line python-json-logger
    would write (a test compares them), without making a record and walking its attributes,
    which took a third of a cached widget's time. Configured any other way (a test runner's
    handlers, a filter, a handler of its own), it is logged as any record is."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    handler = _sole_handler()
    if handler is None:
        fields = {"method": method, "path": path, "status": status}
        access_log.info(
            ACCESS_MESSAGE, method, path, status, extra={**fields, "duration_ms": duration_ms}
        )
        return
    handler.write_line(
        access_line(method, path, status, duration_ms, request_id.get(), time.time())
    )


def access_line(
    method: str, path: str, status: int, duration_ms: float, request: str | None, created: float
) -> str:
    """The JSON our handler's formatter makes of an access record (`log_access`)."""
    fields = {
        "level": "INFO",
        "logger": ACCESS_LOGGER,
        "message": ACCESS_MESSAGE % (method, path, status),
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": request,
        "time": dt.datetime.fromtimestamp(created, tz=dt.UTC).isoformat(),
    }
    return _encoder.encode(fields)


def _sole_handler() -> "_StderrHandler | None":
    """Our handler, if an access record would reach it alone and unchanged."""
    root = access_log.root
    if access_log.handlers or access_log.filters or not access_log.propagate:
        return None
    app_logger = access_log.parent
    if app_logger is None or app_logger.handlers or app_logger.filters or app_logger is root:
        return None
    if not app_logger.propagate or app_logger.parent is not root or root.filters:
        return None
    if len(root.handlers) != 1:
        return None
    [handler] = root.handlers
    if not isinstance(handler, _StderrHandler) or not handler.is_plain(logging.INFO):
        return None
    return handler


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

    def is_plain(self, level: int) -> bool:
        """Whether a record at `level` gets only what `configure` gave this handler."""
        return (
            level >= self.level
            and len(self.filters) == 1
            and type(self.filters[0]) is _RequestIdFilter
            and type(self.formatter) is JsonFormatter
        )

    def write_line(self, line: str) -> None:
        """A line already formatted, written as `emit` writes a record's."""
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream = sys.stderr
                self.stream.write(line + self.terminator)
                self.flush()
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": line}))


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
