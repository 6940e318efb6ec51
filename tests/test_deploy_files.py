"""The image and compose files, checked without Docker: the Compose specification's schema,
hadolint, and how the pieces connect to each other and to the app."""

import ipaddress
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from app.settings import PROJECT_ROOT, Settings

VENV_BIN = Path(sys.executable).parent
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), comments left out."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_compose_file_follows_the_compose_specification() -> None:
    command = [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
    done = subprocess.run([*command, str(COMPOSE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_the_app_waits_for_a_healthy_database_and_sits_behind_nginx() -> None:
    services = compose()["services"]
    db, app, proxy = services["db"], services["app"], services["proxy"]
    assert db["image"] == "postgres:16"
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["environment"]["DATABASE_URL"].endswith("@db:5432/swaptally")
    assert "ports" not in app  # only the proxy is published
    assert app["command"][:2] == ["swaptally", "serve"]
    assert app["command"][app["command"].index("--port") + 1] == "8000"
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "server app:8000;" in (PROJECT_ROOT / "deploy/nginx.conf").read_text(encoding="utf-8")
    assert set(compose()["volumes"]) == {"pgdata", "nginx-cache"}


def test_env_example_lists_every_setting_and_compose_variable() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    settings = {name.upper() for name in Settings.model_fields}
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text(encoding="utf-8")))
    assert settings - listed == set()
    assert interpolated - listed == set()


def test_the_image_is_built_from_npm_assets_and_runs_unprivileged() -> None:
    steps = instructions()
    stages = [argument for name, argument in steps if name == "FROM"]
    assert re.fullmatch(r"node:\S+ AS assets", stages[0])
    assert stages[1].startswith("python:3.12-slim")
    assert ("RUN", "npm ci --no-audit --no-fund --omit=dev") in steps
    [user] = [argument for name, argument in steps if name == "USER"]
    assert re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user)  # numeric, and not root
    [healthcheck] = [argument for name, argument in steps if name == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert steps[-1] == ("CMD", '["swaptally", "serve", "--host", "0.0.0.0", "--port", "8000"]')


def test_the_image_holds_every_folder_the_app_reads() -> None:
    """Each `PROJECT_ROOT / "folder"` in app/ is copied in, and .dockerignore lets it through."""
    read = {
        match.split("/")[0]
        for module in (PROJECT_ROOT / "app").rglob("*.py")
        for match in re.findall(r'PROJECT_ROOT / "([^"]+)"', module.read_text(encoding="utf-8"))
    }
    copies = [argument.split() for name, argument in instructions() if name == "COPY"]
    copied = {Path(words[-1]).name for words in copies}
    assert read - copied == set()
    allowed = {
        line[1:].rstrip("/")
        for line in (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    sources = {
        source.rstrip("/")
        for words in copies
        if not words[0].startswith("--from")
        for source in words[:-1]
    }
    assert sources - allowed == set()
    assert all((PROJECT_ROOT / source).exists() for source in sources)


def test_the_app_believes_forwarded_headers_from_nginx_alone() -> None:
    """Not "*": whoever else reaches the app must not choose its own address for the limits."""
    spec = compose()
    proxy_address = spec["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    [subnet] = spec["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet["subnet"])
    assert spec["services"]["app"]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    nginx = (PROJECT_ROOT / "deploy/nginx.conf").read_text(encoding="utf-8")
    assert "$proxy_add_x_forwarded_for" not in nginx  # a client's own header is never passed on
    # The server, and each location that sets headers of its own (it inherits none of the
    # server's): embeds and the readers' pages.
    assert nginx.count("proxy_set_header X-Forwarded-For $remote_addr;") == 3
    assert nginx.count("proxy_set_header X-Real-IP $remote_addr;") == 3
    assert nginx.count("proxy_set_header Host $host;") == 3
