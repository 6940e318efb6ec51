"""Backups of the whole database: SQLite's online backup API, or pg_dump and pg_restore.

A backup is written beside its target and renamed into place, so a failed one never leaves a
half-written file under the name an operator will restore from. On PostgreSQL the client tools
must be at least the server's major version: the server's own bin directory is preferred.
"""

import contextlib
import glob
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.db import make_engine

PG_BINDIRS = "/usr/lib/postgresql/*/bin"  # Debian's layout, one folder per major version
VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


def backup(database_url: str, path: Path) -> None:
    url = make_url(database_url)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        else:
            _pg_run("pg_dump", url, "--format=custom", "--no-owner", f"--file={partial}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, path: Path) -> None:
    """Replace everything in the database with the backup's content."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_restore(path, _sqlite_file(url))
        return
    _pg_run(
        "pg_restore",
        url,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        str(path),
    )


# ---- SQLite ------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)  # a consistent snapshot, while the app goes on writing


def _sqlite_restore(source: Path, target: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup:
            checked = backup.execute("PRAGMA quick_check").fetchone()
            tables = backup.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()
            if checked != ("ok",) or tables != (1,):
                raise BackupError(f"{source} is not a Swap Tally backup")
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(sqlite3.connect(target)) as live:
                backup.backup(live)  # page by page, under SQLite's own locks
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not a readable SQLite backup: {error}") from None


# ---- PostgreSQL --------------------------------------------------------------------------


def _pg_run(tool: str, url: URL, *arguments: str) -> None:
    """Run pg_dump or pg_restore on the database of `url`. The password goes in PGPASSWORD,
    never on the command line where other users' `ps` would show it."""
    program = _pg_tool(tool, _server_major(url))
    connection = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    command = [program, f"--dbname={connection.render_as_string(hide_password=False)}"]
    done = subprocess.run(
        [*command, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")


def _server_major(url: URL) -> int:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    finally:
        engine.dispose()
    return number // 10_000


def _pg_tool(tool: str, server_major: int) -> str:
    """The server's own version of the tool if installed, else the oldest newer one, else the
    one on PATH if it is new enough: an older pg_dump refuses a newer server."""
    found = []
    for bindir in glob.glob(PG_BINDIRS):
        program = Path(bindir) / tool
        version = _tool_major(str(program)) if program.exists() else None
        if version is not None and version >= server_major:
            found.append((version, str(program)))
    on_path = shutil.which(tool)
    version = _tool_major(on_path) if on_path else None
    if on_path and version is not None and version >= server_major:
        found.append((version, on_path))
    if not found:
        raise BackupError(
            f"{tool} for PostgreSQL {server_major} or newer was not found: install "
            f"postgresql-client-{server_major} (or a newer client)"
        )
    return min(found)[1]


def _tool_major(program: str) -> int | None:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    match = VERSION.search(done.stdout)
    return int(match[1]) if match else None
