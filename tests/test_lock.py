"""The lock files stay in step with pyproject.toml: every dependency pinned exactly, with hashes,
at a version its range allows, and the Docker image's runtime lock at the same versions.
Reads files only (`make lock` is what asks the index)."""

import re
import tomllib
from dataclasses import dataclass

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.settings import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"
RUNTIME_LOCK = PROJECT_ROOT / "requirements-runtime.lock"
PIN = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)"
    r"(?:\s*;\s*(?P<marker>.+?))?"
    r"(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)"
)


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str
    hashes: int


def pins(lock: str) -> list[Pin]:
    """Each requirement of a lock file, continuation lines joined and comments left out."""
    text = (PROJECT_ROOT / lock).read_text(encoding="utf-8")
    joined = re.sub(r"\s*\\\n", " ", re.sub(r"[ \t]*#.*", "", text))
    found = []
    for line in filter(None, (line.strip() for line in joined.splitlines())):
        match = PIN.fullmatch(line)
        assert match, f"{lock}: not an exact pin with hashes: {line[:120]}"
        found.append(
            Pin(
                canonicalize_name(match["name"]),
                match["version"],
                match["marker"] or "",
                match["hashes"].count("--hash="),
            )
        )
    return found


def declared() -> dict[str, list[Requirement]]:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(pyproject)["project"]
    return {
        "runtime": [Requirement(text) for text in project["dependencies"]],
        "dev": [Requirement(text) for text in project["optional-dependencies"]["dev"]],
    }


@pytest.mark.parametrize(
    ("lock", "groups"), [(LOCK.name, ["runtime", "dev"]), (RUNTIME_LOCK.name, ["runtime"])]
)
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, groups: list[str]) -> None:
    locked: dict[str, list[str]] = {}
    for pin in pins(lock):
        locked.setdefault(pin.name, []).append(pin.version)
    for requirement in (req for group in groups for req in declared()[group]):
        versions = locked.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is in pyproject.toml but not in {lock}: `make lock`"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {requirement.name}=={version} outside {requirement.specifier}:"
                " `make lock`"
            )


def test_the_runtime_lock_matches_the_full_lock() -> None:
    """The image runs what `make test` tested: the same version of every package it installs."""
    full = {(pin.name, pin.marker): pin for pin in pins(LOCK.name)}
    runtime = pins(RUNTIME_LOCK.name)
    assert {(pin.name, pin.marker) for pin in runtime} <= set(full)
    assert [pin for pin in runtime if full[pin.name, pin.marker] != pin] == []
    assert {"pytest", "mypy", "playwright"} & {pin.name for pin in runtime} == set()


def test_each_pin_is_listed_once_per_environment() -> None:
    for lock in (LOCK.name, RUNTIME_LOCK.name):
        keys = [(pin.name, pin.marker) for pin in pins(lock)]
        assert len(keys) == len(set(keys)), lock
