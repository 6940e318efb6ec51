"""scripts/system-deps: when it cannot install, it names the packages instead of failing in apt."""

import os
import subprocess
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT


def fake_command(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def system_deps_wrk(path: Path) -> subprocess.CompletedProcess[str]:
    """`scripts/system-deps wrk` with only `path` on the PATH."""
    return subprocess.run(
        ["/bin/bash", str(PROJECT_ROOT / "scripts/system-deps"), "wrk"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(path)},
        check=False,
    )


@pytest.mark.parametrize(
    ("uid", "has_apt", "reason"),
    [
        ("1000", True, "not root and sudo not found"),
        ("0", False, "apt-get not found"),
        ("1000", False, "apt-get not found"),
    ],
)
def test_without_a_way_to_install_it_names_the_packages(
    tmp_path: Path, uid: str, has_apt: bool, reason: str
) -> None:
    """A PATH with bash and a fake `id`, but no wrk, no sudo, and an apt-get that must not run."""
    (tmp_path / "bash").symlink_to("/bin/bash")
    fake_command(tmp_path, "id", f"echo {uid}")
    if has_apt:
        fake_command(tmp_path, "apt-get", f"touch {tmp_path / 'apt-ran'}")
    result = system_deps_wrk(tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"system-deps: {reason}; please install these Debian packages and run again:\n"
        "  apt-get install wrk\n"
    )
    assert not (tmp_path / "apt-ran").exists()


def test_nothing_missing_needs_no_installer(tmp_path: Path) -> None:
    (tmp_path / "bash").symlink_to("/bin/bash")
    fake_command(tmp_path, "wrk", "exit 0")
    result = system_deps_wrk(tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
