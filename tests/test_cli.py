"""The swaptally command on a real SQLite file: migrate, seed (idempotent), and serve."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.error import URLError

import pytest
from typer.testing import CliRunner

from app.cli import cli


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'swaptally.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_migrate_then_seed_twice(sqlite_url: str) -> None:  # noqa: ARG001 (sets DATABASE_URL)
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).output == "Database is at the latest schema.\n"
    assert runner.invoke(cli, ["seed"]).output == "Seed: 72 exchange(s) added.\n"
    assert runner.invoke(cli, ["seed"]).output == "Seed: 0 exchange(s) added.\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_migrates_first_and_answers(sqlite_url: str) -> None:
    port = free_port()
    env = os.environ | {"DATABASE_URL": sqlite_url}
    command = [sys.executable, "-m", "app", "serve", "--port", str(port)]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE) as server:
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/api/v1/exchanges"
                    with urllib.request.urlopen(url, timeout=2) as response:
                        status, body = response.status, response.read()
                    break
                except (URLError, ConnectionError):
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "server did not start within 30 s"
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert (status, body) == (200, b"[]")
