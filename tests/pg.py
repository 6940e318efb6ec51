"""A throwaway PostgreSQL server for the test run: Debian's binaries, a temporary data directory."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.served import free_port


class PostgresUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresServer:
    port: int
    workdir: Path
    bindir: Path
    user: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @contextmanager
    def new_database(self, prefix: str, *, template: str | None = None) -> Iterator[str]:
        """A new database on this server (empty, or a copy of `template`), dropped afterwards:
        its URL."""
        name = f"{prefix}_{uuid.uuid4().hex}"
        copy = f' TEMPLATE "{template}"' if template else ""
        # No pooled connection in between: the server may be restarted meanwhile (test_outage).
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield self.url(name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    def create_database(self, name: str) -> str:
        """An empty database kept until the server stops: its URL."""
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url(name)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg_ctl("-o", options, "-l", str(self.workdir / "server.log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop; "immediate" (the default, at the end of a run) may lose the last commits, since
        the server runs with synchronous_commit off; "fast" shuts down cleanly."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def _pg_ctl(self, *args: str) -> None:
        _run_as(self.user, str(self.bindir / "pg_ctl"), "-D", str(self.workdir / "data"), *args)


def find_bindir() -> Path:
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BINDIR)"
    )


def _run_as(user: str | None, *args: str) -> None:
    command = ["runuser", "-u", user, "--", *args] if user else list(args)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PostgresUnavailable(f"{' '.join(args[:2])} failed: {result.stderr or result.stdout}")


def _unprivileged_user() -> str | None:
    """PostgreSQL refuses to run as root: use the package's own user, or nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as")


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    user = _unprivileged_user()
    workdir = Path(tempfile.mkdtemp(prefix="swaptally-pg-"))
    if user:
        shutil.chown(workdir, user=user)
    server = PostgresServer(port=free_port(), workdir=workdir, bindir=bindir, user=user)
    try:
        _run_as(
            user,
            str(bindir / "initdb"),
            "-D",
            str(workdir / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            # In the C locale lower() folds ASCII only; C.UTF-8 folds Cyrillic too, as production's
            # UTF-8 locales do, and exists on every Debian.
            "--locale=C.UTF-8",
            "--no-sync",
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
