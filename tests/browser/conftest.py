"""Real-browser fixtures: a real `swaptally serve` on its own SQLite file, a host site on another
origin for embeds, and Debian's Chromium driven by Playwright.

One server and one browser serve the whole session (tests create their own exchanges, so they
never depend on each other); each test gets fresh browser contexts. On failure every page the test
opened is kept as a screenshot, with the console log, under test-results/.
"""

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebError,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session

from app import accounts
from app.db import make_engine
from tests.browser.support import ADMIN, EDITORS, PASSWORD, Site
from tests.needs import unavailable
from tests.served import free_port, seeded_sqlite, stop, wait_until_answering

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULTS = PROJECT_ROOT / "test-results"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test, for the fixtures that save evidence of failure."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


# ---- the app under test ------------------------------------------------------------------


def _swaptally() -> list[str]:
    """The installed command beside this interpreter (.venv/bin/swaptally), else `python -m app`."""
    installed = Path(sys.executable).parent / "swaptally"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "app"]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`swaptally serve` on a free loopback port: migrated, seeded, with two editors, an admin
    and a token. The data is written in process (the CLI's own commands have their tests in
    test_cli*.py): five more interpreters to start would cost more than the writes."""
    workdir = tmp_path_factory.mktemp("browser-app")
    database_url = seeded_sqlite(workdir)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            editors = [
                accounts.create_user(session, email=email, password=PASSWORD, role="editor")
                for email in EDITORS
            ]
            accounts.create_user(session, email=ADMIN, password=PASSWORD, role="admin")
            _, token = accounts.create_token(session, user=editors[0], name="browser tests")
            session.commit()
    finally:
        engine.dispose()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "SECRET_KEY": "browser-tests-secret",
        "DATABASE_URL": database_url,
        "BASE_URL": base_url,
        "PASSWORD_HASHING": "cheapest",  # every test signs in; test_accounts checks the real one
    }
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_swaptally(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_answering(f"{base_url}/api/v1/totals", process, log)
        yield Site(base_url=base_url, token=token)
    finally:
        stop(process)


# ---- a newsroom's site on another origin, for embeds --------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class HostSite:
    """Static pages served from `root` at `origin`, which is not the app's origin."""

    root: Path
    origin: str

    def page(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return f"{self.origin}/{name}"


@pytest.fixture(scope="session")
def host_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostSite]:
    root = tmp_path_factory.mktemp("host-site")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # "localhost" and "127.0.0.1" are different origins (and sites) for the browser.
        yield HostSite(root=root, origin=f"http://localhost:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


# ---- the browser ---------------------------------------------------------------------------


def chromium_executable() -> str | None:
    """CHROMIUM_PATH if set (and only it), else Debian's Chromium."""
    configured = os.environ.get("CHROMIUM_PATH")
    candidates = [configured] if configured else [*CHROMIUM_CANDIDATES, shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        unavailable(
            "Chromium",
            f"no Chromium at {os.environ.get('CHROMIUM_PATH') or '/usr/bin/chromium'} "
            "(apt-get install chromium, or scripts/system-deps chromium; or set CHROMIUM_PATH)",
        )
    try:
        browser = playwright.chromium.launch(executable_path=executable)
    except PlaywrightError as error:
        unavailable("Chromium", f"{executable} would not start: {error.message}")
    expect.set_options(timeout=10_000)  # a loaded 2-core machine is slow, never a reason to fail
    yield browser
    browser.close()


@dataclass
class Journal:
    """What the pages of one test printed, and the uncaught errors they threw."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        where = message.location
        line = f"{where.get('url', '')}:{where.get('lineNumber', '')}"
        self.lines.append(f"[{message.type}] {message.text} ({line})")

    def error(self, error: WebError) -> None:
        self.errors.append(str(error.error))
        self.lines.append(f"[pageerror] {error.error}")


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(
    browser: Browser, site: Site, request: pytest.FixtureRequest
) -> Iterator[NewContext]:
    """Opens browser contexts (separate cookie jars) aimed at the app; records their consoles."""
    opened: list[tuple[BrowserContext, Journal]] = []

    def open_context(**options: Any) -> BrowserContext:
        options = {"base_url": site.base_url, "locale": "en-GB", **options}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        journal = Journal()
        context.on("console", journal.console)
        context.on("weberror", journal.error)
        opened.append((context, journal))
        return context

    yield open_context

    reports = request.node.stash.get(REPORTS, {})
    failed = any(report.failed for report in reports.values())
    thrown = [error for _, journal in opened for error in journal.errors]
    if failed or thrown:
        _keep_evidence(request.node.nodeid, opened)
    for context, _ in opened:
        context.close()
    if thrown and not failed:
        pytest.fail("Uncaught JavaScript errors:\n" + "\n".join(thrown), pytrace=False)


def _keep_evidence(nodeid: str, opened: list[tuple[BrowserContext, Journal]]) -> None:
    folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    folder.mkdir(parents=True, exist_ok=True)
    for number, (context, journal) in enumerate(opened, start=1):
        (folder / f"context{number}-console.log").write_text(
            "\n".join(journal.lines) + "\n", encoding="utf-8"
        )
        for index, page in enumerate(context.pages, start=1):
            try:
                page.screenshot(path=folder / f"context{number}-page{index}.png", full_page=True)
            except PlaywrightError as error:  # a crashed page: keep the log at least
                (folder / f"context{number}-page{index}.txt").write_text(str(error))


@pytest.fixture
def context(new_context: NewContext) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
