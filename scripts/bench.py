"""`make bench`: requests/sec and p99 latency (wrk on loopback) of what readers and newsrooms load.

pages: for 200 and then 20,000 generated stages, a fresh SQLite file served by `swaptally serve`
(one worker): `/`, an exchange page, the timeline and the API's stage list, each filtered with a
fixed word (cached after its first answer) and with a new word on every request (a wrk Lua
script: words of the sample data and random ones, so nothing is cached); then the resident
memory of the worker. The goal: each at 20,000 stages at 0.8 or more of its rate at 200.

embeds: the bundled seed. The cached widget against the reference the spec names, a bare
FastAPI app (no middleware, one route answering a constant body of the widget's size) in its own
process, under the same uvicorn settings as `swaptally serve` (app.cli.uvicorn_settings); and
against the same constant route inside the app, behind its whole middleware stack (the second
line: what the stack costs). Also the widget's 304 and the social card against a bare app of the
card's size. In three alternating turns; each turn's ratios, then their median. The goal: the
cached widget at 0.8 or more of the bare app.

nginx: deploy/nginx.conf (run by tests/served.py as in the tests) in front of one worker: the
widget and the public pages answered as that config caches them (X-Cache-Status shown) beside
a static file of the widget's size from the same nginx.

mixed: the 20,000 stages for 60 s: widgets, pages and API reads at random, while one editor adds
a stage through the API every second (each moves the data revision); errors and p99 of both.

import: one worker on the bundled data; the latency of /healthz and the widget, one request after
another, alone (the reference, in the same run) and while an editor's 5 MB CSV dry run is checked.
The goal: under 100 ms during the import.

Loopback figures depend on the machine; compare the ratios, which are measured side by side.
"""

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.responses import Response

from app import accounts, sample_data
from app.cli import uvicorn_settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.routes import embed
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/served.py runs the app and nginx for the tests and here
from tests.editor_session import EditorSession, add_editor, large_import  # noqa: E402
from tests.factories import SOURCE  # noqa: E402
from tests.served import (  # noqa: E402
    fetch,
    free_port,
    running_app,
    running_nginx,
    seeded_sqlite,
    stop,
    wait_until_answering,
)

SIZES = ((20, 200), (200, 20_000))  # (exchanges, stages)
SAMPLE_EXCHANGE = f"/exchanges/{sample_data.SLUG_PREFIX}0001"
FILTER = f"status=confirmed&q={sample_data.SEARCH_WORD.lower()}"
NEW_WORD = "status=confirmed&q=(a new word each request)"
# A session cookie (not a valid session: the page is the anonymous reader's) makes the app
# render the page every time, as it does for a signed-in editor: what an uncached page costs.
RENDERED = " (rendered, as for a signed-in editor)"
SESSION_COOKIES = "swaptally_session=bench; __Host-swaptally_session=bench"
PAGES = (
    "/",
    "/" + RENDERED,
    SAMPLE_EXCHANGE,
    SAMPLE_EXCHANGE + RENDERED,
    "/timeline",
    "/timeline" + RENDERED,
    f"/timeline?{FILTER}",
    f"/timeline?{NEW_WORD}",
    "/api/v1/stages",
    f"/api/v1/stages?{FILTER}",
    f"/api/v1/stages?{NEW_WORD}",
)
GOAL_RATIO = 0.8
SLUG = "istanbul-1000-for-1000"
EMBED = f"/embed/{SLUG}"
CARD = f"{EMBED}.png?og=1"
SAME_STACK = "/bench/bare"
BARE_BYTES_ENV = "SWAPTALLY_BENCH_BARE_BYTES"
TURNS = 3
PAGE_CONNECTIONS = 16
EMBED_CONNECTIONS = 32  # as the issue measured the widget: wrk -t2 -c32
MIXED_SECONDS = 60
UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

# Words for the uncached searches: the sample data's (they find stages) and random ones (they
# find none, so every stage is looked at). `seq` makes each address new, so no cache answers.
NEW_WORD_LUA = """
local words = {%(words)s}
local n = 0
local path = "%(path)s"
function setup(thread) thread:set("id", math.random(1, 1000000)) end
function init(args) math.randomseed(os.time() + id) end
request = function()
  n = n + 1
  local word
  if n %% 2 == 0 then
    word = words[math.random(#words)]
  else
    word = ""
    for _ = 1, 6 do word = word .. string.char(math.random(97, 122)) end
  end
  return wrk.format("GET", path .. "?status=confirmed&q=" .. word .. "&seq=" .. id .. "-" .. n)
end
"""
MIXED_LUA = """
local paths = {%(paths)s}
function setup(thread) thread:set("id", math.random(1, 1000000)) end
function init(args) math.randomseed(os.time() + id) end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"""


@dataclass(frozen=True)
class Measure:
    rps: float | None = None  # None: no figure, `problem` says why
    p99: str = "-"
    problem: str | None = None  # why there is no figure, or what went wrong during the run


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _words() -> list[str]:
    text = " ".join(sample_data.ROUTES + sample_data.DETAILS + sample_data.GROUPS)
    return sorted({word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)})


def lua(template: str, **values: str) -> Path:
    script = Path(tempfile.mkstemp(prefix="swaptally-bench-", suffix=".lua")[1])
    script.write_text(template % values, encoding="utf-8")
    return script


def parse_wrk(output: str, seconds: int, alone_ms: float) -> Measure:
    done = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if done is None or rps is None or p99 is None:
        return Measure(problem="wrk printed no figures")
    if done[1] == "0":
        problem = (
            f"no answer within {seconds} s under load; one request alone took {alone_ms:,.0f} ms"
        )
        return Measure(rps=0.0, p99=f"> {seconds} s", problem=problem)
    problems = []
    if errors := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        problems.append(f"{int(errors[1]):,} of {int(done[1]):,} answers were not 2xx or 3xx")
    if sockets := re.search(r"Socket errors: (.*)$", output, re.MULTILINE):
        problems.append(f"socket errors: {sockets[1]}")
    return Measure(
        rps=float(rps[1]),
        p99=f"{float(p99[1]) * UNIT_SECONDS[p99[2]] * 1000:.1f} ms",
        problem="; ".join(problems) or None,
    )


def run_wrk(
    url: str,
    seconds: int,
    headers: dict[str, str] | None = None,
    *,
    connections: int = PAGE_CONNECTIONS,
    script: Path | None = None,
) -> Measure:
    started = time.perf_counter()
    status = fetch(url)[0]
    alone_ms = (time.perf_counter() - started) * 1000
    if status not in (200, 304):
        return Measure(problem=f"not available (HTTP {status})")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        return Measure(problem=f"wrk failed: {done.stderr.strip()[:80]}")
    return parse_wrk(done.stdout, seconds, alone_ms)


def describe(measure: Measure) -> str:
    if measure.rps is None:
        return measure.problem or "no figures"
    note = f" ({measure.problem})" if measure.problem else ""
    return f"{measure.rps:,.0f} req/s, p99 {measure.p99}{note}"


def _figures(measure: Measure) -> list[str]:
    if measure.rps is None:
        return [measure.problem or "no figures", "-"]
    return [f"{measure.rps:,.0f}", measure.p99]


def aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def verdict(ratio: float) -> str:
    return f"{ratio:.2f} {'ok' if ratio >= GOAL_RATIO else 'BELOW GOAL'}"


def resident_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) / 1024 if found else None


@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[str]:
    """A server process on a free loopback port (`{port}` in `command`): its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [part.replace("{port}", str(port)) for part in command]
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, cwd=ROOT, env=os.environ | env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        try:
            wait_until_answering(base + ready, server, log)
        except RuntimeError as error:
            raise SystemExit(f"bench: {command} did not start: {error}") from None
        yield base
    finally:
        stop(server)


# ---- pages --------------------------------------------------------------------------------


def generated(folder: Path, exchanges: int, stages: int) -> str:
    database_url = f"sqlite:///{folder / f'bench-{stages}.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    started = time.perf_counter()
    try:
        sample_data.generate(engine, exchanges=exchanges, stages=stages)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    say(f"{stages:,} stages over {exchanges} exchanges generated in {elapsed:.2f} s")
    return database_url


def bench_pages(database_url: str, seconds: int) -> tuple[dict[str, Measure], float | None]:
    """Each page's figures, and the worker's resident memory (MB) after them."""
    folder = Path(database_url.removeprefix("sqlite:///")).parent
    results = {}
    with running_app(database_url, folder) as app:
        for page in PAGES:
            script, headers = None, {}
            url = app.base + page
            if page.endswith(NEW_WORD):
                url = app.base + page.split("?")[0]
                script = lua(NEW_WORD_LUA, words=_lua_list(_words()), path=page.split("?")[0])
            if page.endswith(RENDERED):
                url, headers = app.base + page.removesuffix(RENDERED), {"Cookie": SESSION_COOKIES}
            try:
                results[page] = run_wrk(url, seconds, headers, script=script)
            finally:
                if script is not None:
                    script.unlink()
            say(f"  {page}: {describe(results[page])}")
        memory = resident_mb(app.process.pid)
    return results, memory


def _lua_list(items: list[str]) -> str:
    return ", ".join(json.dumps(item) for item in items)


def pages_table(small: dict[str, Measure], large: dict[str, Measure]) -> list[str]:
    """The figures side by side; problems behind a figure are listed under the table."""
    (_, small_stages), (_, large_stages) = SIZES
    header = ["page"]
    header += [
        f"{name} @{stages:,}" for stages in (small_stages, large_stages) for name in ("rps", "p99")
    ]
    header.append(f"rps ratio {large_stages:,}/{small_stages:,} (goal >= {GOAL_RATIO})")
    rows, notes = [header], []
    for page in PAGES:
        row = [page]
        for stages, measure in ((small_stages, small[page]), (large_stages, large[page])):
            row += _figures(measure)
            if measure.rps is not None and measure.problem:
                notes.append(f"{page} @{stages:,}: {measure.problem}")
        before, after = small[page].rps, large[page].rps
        row.append(verdict(after / before) if before and after is not None else "-")
        rows.append(row)
    return aligned(rows) + [f"note: {note}" for note in notes]


# ---- embeds -------------------------------------------------------------------------------


def bare_app() -> FastAPI:
    """The reference: a bare FastAPI app, no middleware, one route answering a constant body
    of SWAPTALLY_BENCH_BARE_BYTES bytes."""
    body = b"x" * int(os.environ[BARE_BYTES_ENV])
    app = FastAPI()

    @app.get("/")
    async def bare() -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    return app


def same_stack_app() -> FastAPI:
    """The app as `swaptally serve` builds it, plus the same constant route, tried right after
    the widget's: the cost of the app's middleware and routing without the widget's own."""
    app = create_app()
    body = b"x" * int(os.environ[BARE_BYTES_ENV])

    async def bare() -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    app.add_api_route(SAME_STACK, bare, include_in_schema=False)
    route = app.router.routes.pop()
    app.router.routes.insert(app.router.routes.index(embed.widget_route) + 1, route)
    return app


def uvicorn_command(factory: str) -> list[str]:
    """This script serving `factory` with uvicorn as `swaptally serve` does."""
    return [sys.executable, str(Path(__file__)), "--serve", factory, "--port", "{port}"]


def serve(factory: str, port: int) -> None:
    import uvicorn

    from app import logs

    if factory == "same_stack_app":
        logs.configure()  # as `swaptally serve` does
    settings = uvicorn_settings(Settings())
    uvicorn.run(
        f"bench:{factory}",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=port,
        **settings,
    )


def sizes_and_etag(database_url: str) -> tuple[int, int, str]:
    """The widget's size and ETag, and the social card's size."""
    settings = Settings(database_url=database_url)
    logging.disable(logging.INFO)  # its access lines would only clutter the figures
    try:
        with TestClient(create_app(settings)) as client:
            widget, card = client.get(EMBED), client.get(CARD)
    finally:
        logging.disable(logging.NOTSET)
    for path, response in ((EMBED, widget), (CARD, card)):
        if response.status_code != 200:
            raise SystemExit(f"bench: {path} answered {response.status_code}")
    return len(widget.content), len(card.content), widget.headers["etag"]


EMBED_RUNS = (
    "bare app, widget size",
    "widget, 200",
    "same stack, widget size",
    "widget, 304",
    "bare app, card size",
    "og card, 200",
)
# Each answer against the reference of its size; the widget against the same stack too.
AGAINST = {
    "widget, 200": "bare app, widget size",
    "same stack, widget size": "bare app, widget size",
    "widget, 304": "bare app, widget size",
    "og card, 200": "bare app, card size",
}


def bench_embeds(seconds: int) -> list[dict[str, Measure]]:
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as name:
        folder = Path(name)
        database_url = seeded_sqlite(folder)
        size, card_size, etag = sizes_and_etag(database_url)
        say(f"embeds: the seed; {EMBED} is {size:,} bytes, {CARD} {card_size:,}")
        app_env = {"DATABASE_URL": database_url, BARE_BYTES_ENV: str(size)}
        with (
            serving(uvicorn_command("same_stack_app"), app_env, folder / "app.log", EMBED) as app,
            serving(
                uvicorn_command("bare_app"), {BARE_BYTES_ENV: str(size)}, folder / "b1.log", "/"
            ) as bare,
            serving(
                uvicorn_command("bare_app"),
                {BARE_BYTES_ENV: str(card_size)},
                folder / "b2.log",
                "/",
            ) as bare_card,
        ):
            urls = {
                "bare app, widget size": (bare + "/", {}),
                "widget, 200": (app + EMBED, {}),
                "same stack, widget size": (app + SAME_STACK, {}),
                "widget, 304": (app + EMBED, {"If-None-Match": etag}),
                "bare app, card size": (bare_card + "/", {}),
                "og card, 200": (app + CARD, {}),
            }
            turns = []
            for turn in range(1, TURNS + 1):
                found = {}
                for name in EMBED_RUNS:
                    url, headers = urls[name]
                    measure = run_wrk(url, seconds, headers, connections=EMBED_CONNECTIONS)
                    found[name] = measure
                    say(f"  turn {turn}, {name}: {describe(measure)}")
                turns.append(found)
            return turns


def _ratio(turn: dict[str, Measure], name: str, against: str) -> float | None:
    measure, reference = turn[name].rps, turn[against].rps
    return measure / reference if measure is not None and reference else None


def embeds_table(turns: list[dict[str, Measure]]) -> list[str]:
    header = ["answer", *(f"turn {i} rps" for i in range(1, TURNS + 1))]
    header += [f"ratio turn {i}" for i in range(1, TURNS + 1)]
    header += [f"median ratio (goal >= {GOAL_RATIO})"]
    rows = [header]
    for name in EMBED_RUNS:
        row = [name, *(_figures(turn[name])[0] for turn in turns)]
        against = AGAINST.get(name)
        ratios = [_ratio(turn, name, against) for turn in turns] if against else []
        row += [f"{r:.2f}" if r is not None else "-" for r in ratios] or ["-"] * len(turns)
        known = [r for r in ratios if r is not None]
        row.append(verdict(statistics.median(known)) if known else "-")
        rows.append(row)
    lines = aligned(rows)
    stack = [_ratio(turn, "widget, 200", "same stack, widget size") for turn in turns]
    known = [r for r in stack if r is not None]
    if known:
        lines.append(
            "widget against the same constant route behind the app's stack: "
            + ", ".join(f"{r:.2f}" for r in known)
            + f"; median {statistics.median(known):.2f}"
        )
    lines.append("ratios: each answer's rps over the reference named in AGAINST, turn by turn")
    return lines


# ---- nginx --------------------------------------------------------------------------------


def bench_nginx(seconds: int) -> list[str]:
    """The widget and public pages through deploy/nginx.conf (cached as the app's headers and
    that config say) beside a static file of the widget's size from the same nginx."""
    pages = [EMBED, f"/exchanges/{SLUG}", "/timeline"]
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as folder:
        database_url = seeded_sqlite(Path(folder))
        files = Path(tempfile.mkdtemp(prefix="swaptally-bench-files-"))
        files.chmod(0o755)  # nginx runs unprivileged
        static = files / "widget-sized.html"
        best: dict[str, Measure] = {}
        cache_status: dict[str, str] = {}
        try:
            with running_app(database_url, Path(folder)) as app:
                extra = f"        location = /bench/static.html {{ alias {static}; }}"
                with running_nginx(app.base.removeprefix("http://"), extra=extra) as nginx:
                    size = len(fetch(nginx.base + EMBED)[2])
                    static.write_bytes(b"x" * size)
                    static.chmod(0o644)
                    for page in pages:
                        fetch(nginx.base + page)  # the second answer shows what is kept
                        cache_status[page] = fetch(nginx.base + page)[1].get(
                            "x-cache-status", "(no X-Cache-Status: not cached by nginx)"
                        )
                    runs = [*pages, "/bench/static.html"]
                    for turn in range(1, TURNS + 1):  # in turns, the best of each counts
                        for path in runs:
                            measure = run_wrk(nginx.base + path, seconds)
                            say(f"  turn {turn}, nginx {path}: {describe(measure)}")
                            best[path] = max(
                                best.get(path, Measure()), measure, key=lambda m: m.rps or 0
                            )
        finally:
            shutil.rmtree(files, ignore_errors=True)
    file = best["/bench/static.html"]
    rows = [["through nginx", "rps", "p99", "X-Cache-Status", "rps / static file"]]
    for page in pages:
        ratio = f"{best[page].rps / file.rps:.2f}" if best[page].rps and file.rps else "-"
        rows.append([page, *_figures(best[page]), cache_status[page], ratio])
    rows.append([f"static file, same size as the widget ({size:,} bytes)", *_figures(file)])
    rows[-1] += ["-", "1.00"]
    return [*aligned(rows), "1.00: a cached answer costs what a file does"]


# ---- mixed --------------------------------------------------------------------------------


def _api_token(database_url: str) -> str:
    email = add_editor(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            user = accounts.get_user_by_email(session, email)
            assert user is not None
            _, token = accounts.create_token(session, user=user, name="bench")
            session.commit()
    finally:
        engine.dispose()
    return token


@dataclass
class Writes:
    latencies_ms: list[float]
    failures: list[str]


def _write_every_second(base: str, token: str, stop_at: float, done: Writes) -> None:
    """One editor adding a stage through the API every second until `stop_at`."""
    exchange = SAMPLE_EXCHANGE.rsplit("/", 1)[1]
    while time.monotonic() < stop_at:
        started = time.monotonic()
        sides = [{"key": key, "military": 10, "civilian": 2} for key in "ab"]
        body = {"date": "2026-10-31", "status": "confirmed", "sides": sides, "sources": [SOURCE]}
        request = urllib.request.Request(
            f"{base}/api/v1/exchanges/{exchange}/stages",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
        except OSError as error:  # HTTPError included
            done.failures.append(str(error)[:100])
        done.latencies_ms.append((time.monotonic() - started) * 1000)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def bench_mixed(database_url: str, seconds: int) -> list[str]:
    """Readers' requests at random (wrk), and one editor writing every second, on one worker."""
    folder = Path(database_url.removeprefix("sqlite:///")).parent
    token = _api_token(database_url)
    paths = [EMBED.replace(SLUG, f"{sample_data.SLUG_PREFIX}{n:04d}") for n in range(1, 6)] + [
        SAMPLE_EXCHANGE,
        "/",
        "/timeline",
        "/api/v1/stages",
        "/api/v1/exchanges",
    ]
    script = lua(MIXED_LUA, paths=_lua_list(paths))
    writes = Writes([], [])
    try:
        with running_app(database_url, folder) as app:
            writer = threading.Thread(
                target=_write_every_second,
                args=(app.base, token, time.monotonic() + seconds, writes),
            )
            writer.start()
            readers = run_wrk(app.base + "/", seconds, script=script)
            writer.join()
    finally:
        script.unlink()
    lines = [f"readers ({', '.join(paths)} at random): {describe(readers)}"]
    if writes.latencies_ms:
        ordered = sorted(writes.latencies_ms)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        lines.append(
            f"editor: {len(ordered)} stages added, {len(writes.failures)} failed,"
            f" median {statistics.median(ordered):.0f} ms, p99 {p99:.0f} ms"
        )
    lines += [f"editor error: {failure}" for failure in writes.failures[:3]]
    return lines


# ---- an import beside readers ---------------------------------------------------------------

IMPORT_GOAL_MS = 100


def _latencies(url: str, count: int, keep_going: Callable[[], bool] = lambda: True) -> list[float]:
    found = []
    while len(found) < count and keep_going():
        start = time.perf_counter()
        fetch(url)
        found.append((time.perf_counter() - start) * 1000)
    return found


def bench_import() -> list[str]:
    """/healthz and the widget, alone and during a 5 MB import dry run, on one worker."""
    lines = ["during a 5 MB import | requests | median ms | max ms"]
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as folder:
        database_url = seeded_sqlite(Path(folder))
        email = add_editor(database_url)
        with running_app(database_url, Path(folder)) as app:
            body = large_import(fetch(f"{app.base}/api/v1/stages.csv")[2].decode())
            editor = EditorSession(app.base, email)
            for path in ("/healthz", EMBED):
                alone = _latencies(app.base + path, 50)
                lines.append(f"{path}, nothing else running | {_spread(alone)}")
            for path in ("/healthz", EMBED):
                with editor.importing(body) as answered:
                    during = _latencies(app.base + path, 10_000, lambda: not answered.is_set())
                lines.append(f"{path}, during the import | {_spread(during)}")
    lines.append(f"goal: under {IMPORT_GOAL_MS} ms during the import")
    return lines


def _spread(latencies: list[float]) -> str:
    if not latencies:
        return "0 | - | -"
    return f"{len(latencies)} | {statistics.median(latencies):.1f} | {max(latencies):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per endpoint")
    parser.add_argument(
        "--mixed-duration", type=int, default=MIXED_SECONDS, help="seconds of the mixed run"
    )
    parser.add_argument(
        "--only",
        choices=("pages", "embeds", "nginx", "mixed", "import"),
        help="run one part only",
    )
    parser.add_argument("--serve", choices=("bare_app", "same_stack_app"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # a server for the embeds' part, started by this script
        serve(args.serve, args.port)
        return
    if shutil.which("wrk") is None and args.only != "import":
        raise SystemExit("bench: wrk not found (`make bench` installs it: scripts/system-deps wrk)")
    say(f"bench on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as name:
        folder = Path(name)
        large_url = None
        if args.only in (None, "pages"):
            (small_exchanges, small_stages), (large_exchanges, large_stages) = SIZES
            small, _ = bench_pages(generated(folder, small_exchanges, small_stages), args.duration)
            large_url = generated(folder, large_exchanges, large_stages)
            large, memory = bench_pages(large_url, args.duration)
            say()
            say(f"pages: wrk -t2 -c{PAGE_CONNECTIONS} -d{args.duration}s, SQLite, one worker")
            for line in pages_table(small, large):
                say(line)
            say(
                f"resident memory of the worker at {large_stages:,} stages, after those runs: "
                + (f"{memory:,.0f} MB" if memory is not None else "- (no /proc)")
            )
            say()
        if args.only in (None, "embeds"):
            turns = bench_embeds(args.duration)
            say()
            say(
                f"embeds: wrk -t2 -c{EMBED_CONNECTIONS} -d{args.duration}s, {TURNS} alternating"
                " turns; each server one uvicorn worker with `swaptally serve`'s settings"
            )
            for line in embeds_table(turns):
                say(line)
        if args.only in (None, "nginx"):
            say()
            nginx = bench_nginx(args.duration)
            say()
            say(
                f"nginx: wrk -t2 -c{PAGE_CONNECTIONS} -d{args.duration}s, best of {TURNS} turns,"
                " deploy/nginx.conf in front of one uvicorn worker, the seed"
            )
            for line in nginx:
                say(line)
        if args.only in (None, "mixed"):
            say()
            exchanges, stages = SIZES[1]
            large_url = large_url or generated(folder, exchanges, stages)
            mixed = bench_mixed(large_url, args.mixed_duration)
            say(
                f"mixed, {stages:,} stages: wrk -t2 -c{PAGE_CONNECTIONS}"
                f" -d{args.mixed_duration}s, one worker"
            )
            for line in mixed:
                say(line)
        if args.only in (None, "import"):
            say()
            for line in bench_import():
                say(line)


if __name__ == "__main__":
    main()
