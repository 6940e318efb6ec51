"""`make bench`: requests/sec and p99 latency of timeline pages and API lists, 200 vs 20,000 stages;
then the cached embed against a bare route; then the widget through the shipped nginx config.

For each size: a fresh SQLite file in a temporary folder, migrated and filled with the generated
sample data, served by `python -m app serve` on a free loopback port, loaded by wrk for a few
seconds per endpoint. The goal: a page costs the same on 20,000 stages as on 200 (ratio > 0.8).

Embeds: the bundled seed, served by uvicorn with the same settings as `swaptally serve` but with
one more route, a bare FastAPI route `/bench/bare/{bytes}` that answers a constant body of that
many bytes (placed just before the embeds' routes, behind the same middleware). wrk loads, in
turns, the bare route at the widget's size, the widget (200), the widget with its ETag (304), the
bare route at the social card's size and the card `/embed/{slug}.png?og=1`; the best of the turns
counts. The goal: each cached answer at 0.8 or more of the bare route of its size, 304s faster.

nginx: deploy/nginx.conf (run by tests/served.py as in the tests) in front of one worker, the
widget answered from nginx's cache beside a static file of the same size from the same nginx.

Import: one worker on the bundled data; the latency of /healthz and the widget, one request after
another, first with nothing else running (the reference, in the same run), then while an editor's
5 MB CSV dry run is being checked. The goal: under 100 ms during the import.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.responses import Response

from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.routes import embed
from app.sample_data import SEARCH_WORD, generate
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/served.py runs the app and nginx for the tests and here
from tests.editor_session import EditorSession, add_editor, large_import  # noqa: E402
from tests.served import (  # noqa: E402
    fetch,
    free_port,
    running_app,
    running_nginx,
    seeded_sqlite,
    wait_until_answering,
)

SIZES = ((20, 200), (200, 20_000))  # (exchanges, stages)
FILTER = f"status=confirmed&q={SEARCH_WORD.lower()}"
ENDPOINTS = ("/timeline", f"/timeline?{FILTER}", "/api/v1/stages", f"/api/v1/stages?{FILTER}")
GOAL_RATIO = 0.8
EMBED = "/embed/istanbul-1000-for-1000"
BARE = "/bench/bare"
CARD = f"{EMBED}.png?og=1"
EMBED_TURNS = 3
UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Measure:
    rps: float | None = None  # None: no figure, `problem` says why
    p99: str = "-"
    problem: str | None = None  # why there is no figure, or what went wrong during the run


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_until_ready(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    try:
        wait_until_answering(f"{base}/api/v1/exchanges", server, log)
    except RuntimeError as error:
        raise SystemExit(f"bench: the server at {base} did not start: {error}") from None


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
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Measure(
        rps=float(rps[1]),
        p99=f"{float(p99[1]) * UNIT_SECONDS[p99[2]] * 1000:.1f} ms",
        problem=f"{errors[1]} answers were not 2xx" if errors else None,
    )


def run_wrk(url: str, seconds: int, headers: dict[str, str] | None = None) -> Measure:
    started = time.perf_counter()
    status = fetch(url)[0]
    alone_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        return Measure(problem=f"not available (HTTP {status})")
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "5s", "--latency", url]
    for name, value in (headers or {}).items():
        command[1:1] = ["-H", f"{name}: {value}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if done.returncode != 0:
        return Measure(problem=f"wrk failed: {done.stderr.strip()[:80]}")
    return parse_wrk(done.stdout, seconds, alone_ms)


def bench_size(exchanges: int, stages: int, seconds: int) -> dict[str, Measure]:
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(database_url)
        engine = make_engine(database_url)
        started = time.perf_counter()
        try:
            generate(engine, exchanges=exchanges, stages=stages)
        finally:
            engine.dispose()
        elapsed = time.perf_counter() - started
        say(f"{stages:,} stages over {exchanges} exchanges generated in {elapsed:.2f} s")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(folder) / "server.log"
        command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
        env = os.environ | {"DATABASE_URL": database_url}
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                wait_until_ready(server, base, log)
                results = {}
                for endpoint in ENDPOINTS:
                    results[endpoint] = run_wrk(base + endpoint, seconds)
                    say(f"  {endpoint}: {describe(results[endpoint])}")
                return results
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def describe(measure: Measure) -> str:
    if measure.rps is None:
        return measure.problem or "no figures"
    note = f" ({measure.problem})" if measure.problem else ""
    return f"{measure.rps:,.0f} req/s, p99 {measure.p99}{note}"


def table(small: dict[str, Measure], large: dict[str, Measure]) -> list[str]:
    """The figures side by side; problems behind a figure are listed under the table."""
    (_, small_stages), (_, large_stages) = SIZES
    header = ["endpoint"]
    header += [
        f"{name} @{stages:,}" for stages in (small_stages, large_stages) for name in ("rps", "p99")
    ]
    header.append(f"rps ratio {large_stages:,}/{small_stages:,} (goal > {GOAL_RATIO})")
    rows, notes = [header], []
    for endpoint in ENDPOINTS:
        row = [endpoint]
        for stages, measure in ((small_stages, small[endpoint]), (large_stages, large[endpoint])):
            row += (
                [measure.problem or "no figures", "-"]
                if measure.rps is None
                else [f"{measure.rps:,.0f}", measure.p99]
            )
            if measure.rps is not None and measure.problem:
                notes.append(f"{endpoint} @{stages:,}: {measure.problem}")
        before, after = small[endpoint].rps, large[endpoint].rps
        if before and after is not None:
            ratio = after / before
            row.append(f"{ratio:.2f} {'ok' if ratio > GOAL_RATIO else 'BELOW GOAL'}")
        else:
            row.append("-")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines + [f"note: {note}" for note in notes]


# ---- embeds -------------------------------------------------------------------------------


def bench_app() -> FastAPI:
    """The app as `swaptally serve` builds it, plus the bare route: a constant body of the
    asked size, on a router placed just before the embeds' router."""
    app = create_app()
    bodies: dict[int, bytes] = {}
    bare_router = APIRouter()

    @bare_router.get(BARE + "/{size}", include_in_schema=False)
    async def bare(size: int) -> Response:
        body = bodies.setdefault(size, b"x" * size)
        return Response(body, media_type="text/html; charset=utf-8")

    app.include_router(bare_router)
    routes = app.router.routes
    included = routes.pop()
    # FastAPI keeps each included router as one entry (original_router); else leave it last.
    embeds = (
        i for i, r in enumerate(routes) if getattr(r, "original_router", None) is embed.router
    )
    at = next(embeds, len(routes))
    routes.insert(at, included)
    return app


def sizes_and_etag(database_url: str) -> tuple[int, int, str]:
    """The widget's size and ETag, and the social card's size."""
    settings = Settings(database_url=database_url)
    with TestClient(create_app(settings)) as client:
        widget, card = client.get(EMBED), client.get(CARD)
    for path, response in ((EMBED, widget), (CARD, card)):
        if response.status_code != 200:
            raise SystemExit(f"bench: {path} answered {response.status_code}")
    return len(widget.content), len(card.content), widget.headers["etag"]


def bench_embed(seconds: int) -> dict[str, Measure]:
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as folder:
        database_url = seeded_sqlite(Path(folder))
        size, card_size, etag = sizes_and_etag(database_url)
        say(f"embeds: the seed; {EMBED} is {size:,} bytes, {CARD} {card_size:,}")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(folder) / "server.log"
        # The same uvicorn settings as `swaptally serve` (app.cli.serve), on the bench app.
        command = [sys.executable, "-m", "uvicorn", "--factory", "bench:bench_app"]
        command += ["--app-dir", str(ROOT / "scripts"), "--host", "127.0.0.1", "--port", str(port)]
        env = os.environ | {"DATABASE_URL": database_url}
        runs = {
            WIDGET_BARE: (f"{BARE}/{size}", {}),
            "widget, 200": (EMBED, {}),
            "widget, 304": (EMBED, {"If-None-Match": etag}),
            CARD_BARE: (f"{BARE}/{card_size}", {}),
            "og card, 200": (CARD, {}),
        }
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                wait_until_ready(server, base, log)
                best: dict[str, Measure] = {}
                for turn in range(1, EMBED_TURNS + 1):
                    for name, (path, headers) in runs.items():
                        measure = run_wrk(base + path, seconds, headers)
                        say(f"  turn {turn}, {name}: {describe(measure)}")
                        if (measure.rps or 0) >= (best.get(name, Measure()).rps or 0):
                            best[name] = measure
                return best
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


WIDGET_BARE = "bare, widget size"
CARD_BARE = "bare, card size"
# Each answer against the bare route of its own size.
AGAINST = {"widget, 200": WIDGET_BARE, "widget, 304": WIDGET_BARE, "og card, 200": CARD_BARE}


def embed_table(results: dict[str, Measure]) -> list[str]:
    head = f"{'endpoint':<17} | {'rps':>8} | {'p99':>8} | ratio to bare (goal >= {GOAL_RATIO})"
    lines = [head, "-" * len(head)]
    for name, measure in results.items():
        if measure.rps is None:
            lines.append(f"{name:<17} | {measure.problem or 'no figures'}")
            continue
        ratio = "-"
        bare = results[AGAINST[name]].rps if name in AGAINST else None
        if bare:
            value = measure.rps / bare
            ratio = f"{value:.2f} {'ok' if value >= GOAL_RATIO else 'BELOW GOAL'}"
        lines.append(f"{name:<17} | {measure.rps:>8,.0f} | {measure.p99:>8} | {ratio}")
    return lines


# ---- nginx --------------------------------------------------------------------------------


def bench_nginx(seconds: int) -> list[str]:
    """The widget through deploy/nginx.conf (cached as the app's headers say) beside a static
    file of the same size served by the same nginx; the bundled data, one uvicorn worker."""
    with tempfile.TemporaryDirectory(prefix="swaptally-bench-") as folder:
        database_url = seeded_sqlite(Path(folder))
        files = Path(tempfile.mkdtemp(prefix="swaptally-bench-files-"))
        files.chmod(0o755)  # nginx runs unprivileged
        static = files / "widget-sized.html"
        try:
            with running_app(database_url, Path(folder)) as app:
                extra = f"        location = /bench/static.html {{ alias {static}; }}"
                with running_nginx(app.base.removeprefix("http://"), extra=extra) as nginx:
                    widget_url = nginx.base + EMBED
                    size = len(fetch(widget_url)[2])
                    static.write_bytes(b"x" * size)
                    static.chmod(0o644)
                    widget, file = Measure(), Measure()
                    for turn in range(1, EMBED_TURNS + 1):  # in turns, the best of each counts
                        measure = run_wrk(widget_url, seconds)
                        say(f"  turn {turn}, nginx {EMBED}: {describe(measure)}")
                        widget = max(widget, measure, key=lambda m: m.rps or 0)
                        measure = run_wrk(nginx.base + "/bench/static.html", seconds)
                        say(f"  turn {turn}, nginx static file: {describe(measure)}")
                        file = max(file, measure, key=lambda m: m.rps or 0)
        finally:
            shutil.rmtree(files, ignore_errors=True)
    rows = [
        ["through nginx", "rps", "p99"],
        [f"widget {EMBED} (cached)", *_figures(widget)],
        [f"static file, same size ({size:,} bytes)", *_figures(file)],
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    if widget.rps is not None and file.rps:
        ratio = widget.rps / file.rps
        lines.append(
            f"rps ratio widget/static file: {ratio:.2f} (1.0: a hit costs what a file does)"
        )
    else:
        lines.append("rps ratio widget/static file: - (no figure for one of them)")
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


def _figures(measure: Measure) -> list[str]:
    if measure.rps is None:
        return [measure.problem or "no figures", "-"]
    return [f"{measure.rps:,.0f}", measure.p99]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per endpoint")
    parser.add_argument(
        "--only", choices=("pages", "embeds", "nginx", "import"), help="run one part only"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None and args.only != "import":
        raise SystemExit("bench: wrk not found (`make bench` installs it: scripts/system-deps wrk)")
    if args.only in (None, "pages"):
        (small_exchanges, small_stages), (large_exchanges, large_stages) = SIZES
        small = bench_size(small_exchanges, small_stages, args.duration)
        large = bench_size(large_exchanges, large_stages, args.duration)
        say()
        say(f"wrk -t2 -c16 -d{args.duration}s on loopback, SQLite, one uvicorn worker")
        for line in table(small, large):
            say(line)
        say()
    if args.only in (None, "embeds"):
        embeds = bench_embed(args.duration)
        say()
        say(f"embeds: wrk -t2 -c16 -d{args.duration}s, best of {EMBED_TURNS} turns, one worker")
        for line in embed_table(embeds):
            say(line)
    if args.only in (None, "nginx"):
        say()
        nginx = bench_nginx(args.duration)
        say()
        say(
            f"nginx: wrk -t2 -c16 -d{args.duration}s, best of {EMBED_TURNS} turns,"
            " deploy/nginx.conf in front of one uvicorn worker"
        )
        for line in nginx:
            say(line)
    if args.only in (None, "import"):
        say()
        for line in bench_import():
            say(line)


if __name__ == "__main__":
    main()
