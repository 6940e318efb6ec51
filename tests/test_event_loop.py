"""No handler does database or CPU work on the event loop (STYLE.md "Grown up" 3): a 5 MB import
on a single worker leaves the widget and /healthz answering while it runs."""

import inspect
from pathlib import Path

from anyio import to_thread
from fastapi.testclient import TestClient

from app.main import WORKER_THREADS, create_app
from app.routes.editor import MAX_IMPORT_BYTES
from app.settings import Settings
from tests.app_routes import app_routes
from tests.editor_session import EditorSession, add_editor, large_import
from tests.served import fetch, running_app, seeded_sqlite

WIDGET = "/embed/istanbul-1000-for-1000"
# The only `async def` endpoints: each hands its work to a thread itself (run_in_threadpool)
# or does none (the widget, its image and oEmbed render in the threadpool behind their cache;
# the host script is a file read once; the API's write wrapper awaits the route's own handler;
# the CSV export reads the revision in a thread, and its body is made by a plain iterator,
# which Starlette steps through in the threadpool). FastAPI's own /openapi.json serves a
# schema built once.
AWAITING_ONLY = {"widget", "image", "host_script", "oembed", "openapi", "stages_csv"}


def test_no_endpoint_runs_on_the_event_loop_unless_it_hands_its_work_off() -> None:
    app = create_app(Settings(environment="test", secret_key="x", database_url="sqlite://"))
    endpoints = [route.endpoint for _, route in app_routes(app.router)]
    on_the_loop = {e.__name__ for e in endpoints if inspect.iscoroutinefunction(e)}
    assert len(endpoints) > 50  # every route was found, the included routers' too
    assert on_the_loop <= AWAITING_ONLY


def test_a_5_mb_import_on_one_worker_does_not_hold_up_the_widget_or_healthz(
    tmp_path: Path,
) -> None:
    # Found by the attack review: the upload handler ran the importer on the event loop, and
    # everything else on that worker waited about 50 s for it.
    database_url = seeded_sqlite(tmp_path)
    email = add_editor(database_url)
    with running_app(database_url, tmp_path, workers=1) as app:
        editor = EditorSession(app.base, email)
        # Enough stages that checking them outlasts three small requests on a fast machine.
        body = large_import(fetch(f"{app.base}/api/v1/stages.csv")[2].decode(), stages=150)
        with editor.importing(body) as answered:
            answered.wait(0.3)  # the server is reading and checking the file by now
            during = [fetch(app.base + path)[0] for path in ("/healthz", WIDGET, "/healthz")]
            still_running = not answered.is_set()

    assert during == [200, 200, 200]
    assert still_running, "the other requests waited for the import (or the file is too small)"
    assert editor.statuses == [200]
    assert len(body) > MAX_IMPORT_BYTES - 1000


def test_a_worker_runs_as_many_handlers_at_once_as_it_has_threads_for() -> None:
    """Renders hold the GIL: more threads than WORKER_THREADS add memory, not speed."""
    app = create_app(Settings(environment="test", secret_key="x", database_url="sqlite://"))
    with TestClient(app) as client:
        limiter = client.portal.call(to_thread.current_default_thread_limiter)
        assert limiter.total_tokens == WORKER_THREADS == 8
