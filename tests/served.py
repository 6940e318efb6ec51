"""Real processes for the tests and `make bench`: the app under `swaptally serve`, and Debian's
nginx running the shipped deploy/nginx.conf, unprivileged, from a temporary folder."""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError

from sqlmodel import Session

from app import seed
from app.db import make_engine
from app.migrate import upgrade
from app.settings import PROJECT_ROOT

NGINX = Path(os.environ.get("NGINX", "/usr/sbin/nginx"))
SHIPPED_NGINX_CONF = PROJECT_ROOT / "deploy/nginx.conf"
STARTUP_SECONDS = 60


# Loopback addresses never go through a proxy, whatever the environment says.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NginxUnavailable(RuntimeError):
    pass


def seeded_sqlite(folder: Path) -> str:
    """The bundled seed in a migrated SQLite file in `folder`: its URL."""
    database_url = f"sqlite:///{folder / 'swaptally.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            seed.load(session)
            session.commit()
    finally:
        engine.dispose()
    return database_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names in lower case) and body of a GET on a fresh connection; an HTTP
    error is an answer too."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with _direct.open(request, timeout=30) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            fetch(url)
            return
        except (URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS} s:\n{tail}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def running_app(
    database_url: str, folder: Path, *, workers: int = 1, **env: str
) -> Iterator[Served]:
    """`swaptally serve` on a free loopback port (it migrates first); `env` adds settings."""
    port = free_port()
    log = folder / f"app-{port}.log"
    command = [sys.executable, "-m", "app", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    environment = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret"}
    environment |= {"PASSWORD_HASHING": "cheapest"} | env  # argon2id as the suite's own
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_answering(f"{served.base}/healthz", process, log)
        yield served
    finally:
        stop(process)


def render_nginx_conf(*, upstream: str, port: int, folder: Path, extra: str = "") -> str:
    """The shipped config with only its upstream, its port and the paths under /var changed
    (and, for the bench alone, `extra` locations added to the server)."""
    config = SHIPPED_NGINX_CONF.read_text(encoding="utf-8")
    replacements = {
        "server app:8000;": f"server {upstream};",
        "listen 80;": f"listen 127.0.0.1:{port};" + (f"\n{extra}" if extra else ""),
        "/var/cache/nginx/": f"{folder}/cache/",
        "/var/log/nginx/": f"{folder}/log/",
        "/var/run/nginx.pid": f"{folder}/nginx.pid",
    }
    for shipped, local in replacements.items():
        if shipped not in config:
            raise AssertionError(f"deploy/nginx.conf no longer has {shipped!r}")
        config = config.replace(shipped, local)
    return config


def _unprivileged() -> pwd.struct_passwd | None:
    """nginx in tests runs as nobody when we are root, else as ourselves."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Nginx:
    base: str
    folder: Path


@contextmanager
def running_nginx(upstream: str, *, extra: str = "") -> Iterator[Nginx]:
    if not NGINX.exists():
        raise NginxUnavailable(f"{NGINX} not found (scripts/system-deps nginx installs it)")
    user = _unprivileged()
    folder = Path(tempfile.mkdtemp(prefix="swaptally-nginx-"))
    try:
        (folder / "log").mkdir()
        (folder / "cache").mkdir()
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(render_nginx_conf(upstream=upstream, port=port, folder=folder, extra=extra))
        if user:
            for path in (folder, folder / "log", folder / "cache", conf):
                os.chown(path, user.pw_uid, user.pw_gid)
        command = [str(NGINX), "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]
        checked = subprocess.run(
            [*command, "-t"], capture_output=True, text=True, check=False, user=user and user.pw_uid
        )
        if checked.returncode != 0:
            raise AssertionError(f"nginx -t refused the config:\n{checked.stderr}")
        log = folder / "log" / "stderr.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                user=user and user.pw_uid,
                group=user and user.pw_gid,
            )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/healthz", process, log)
            yield Nginx(f"http://127.0.0.1:{port}", folder)
        finally:
            stop(process)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
