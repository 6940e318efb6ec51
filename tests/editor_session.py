"""An editor signed in to a real app process, as a browser is: cookies, the forms' CSRF tokens
and an Origin header; for tests and `make bench` that need the server, not a TestClient."""

import csv
import datetime as dt
import http.client
import http.cookiejar
import io
import re
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from app import accounts
from app.db import make_engine
from app.routes.editor import MAX_IMPORT_BYTES

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')


def add_editor(database_url: str, email: str = "bench@example.org") -> str:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            accounts.create_user(session, email=email, password=PASSWORD, role="editor")
            session.commit()
    finally:
        engine.dispose()
    return email


class EditorSession:
    """Signed in at `base` as `email` (see add_editor)."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.statuses: list[int] = []  # of the imports sent
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies)
        )
        fields = {"email": email, "password": PASSWORD, "next": "/editor"}
        self.post_form("/login", fields)

    def token(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            found = CSRF_FIELD.search(response.read().decode())
        assert found is not None, f"no CSRF field on {path}"
        return found.group(1)

    def headers(self) -> dict[str, str]:
        """The cookies and Origin a browser sends with a form from this site."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return {"Cookie": cookie, "Origin": self.base}

    def post_form(self, path: str, fields: dict[str, str]) -> None:
        data = urllib.parse.urlencode(fields | {"csrftoken": self.token(path)}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Origin": self.base})
        with self.opener.open(request, timeout=30) as response:
            response.read()

    @contextmanager
    def importing(self, body: bytes) -> Iterator[threading.Event]:
        """Send a CSV file to the import page's dry run and, once every byte is sent, run the
        body of the `with` while the server checks it; the event is set when its answer has
        come (`statuses` holds it)."""
        token = self.token("/editor/import")
        boundary = uuid.uuid4().hex
        parts = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        payload = parts + body + f"\r\n--{boundary}--\r\n".encode()
        connection = http.client.HTTPConnection(
            urllib.parse.urlsplit(self.base).netloc, timeout=600
        )
        headers = self.headers() | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        connection.request("POST", "/editor/import", body=payload, headers=headers)
        answered = threading.Event()

        def wait() -> None:
            response = connection.getresponse()
            response.read()
            self.statuses.append(response.status)
            answered.set()

        waiting = threading.Thread(target=wait)
        waiting.start()
        try:
            yield answered
        finally:
            waiting.join(timeout=600)
            connection.close()


def large_import(stages_csv: str, size: int = MAX_IMPORT_BYTES, stages: int = 60) -> bytes:
    """An export grown to just under `size` bytes: `stages` new stages on new dates, each with
    long notes (real work for the importer), in rows padded by a column it does not read."""
    first = list(csv.DictReader(io.StringIO(stages_csv)))
    stage = [
        r for r in first if (r["exchange"], r["date"]) == (first[0]["exchange"], first[0]["date"])
    ]
    header = [*stage[0], "remark"]
    rows = [
        r | {"stage_id": "", "date": day.isoformat(), "notes": f"{'x' * 9000} {day}"}
        for day in (dt.date(2015, 1, 1) + dt.timedelta(days=n) for n in range(stages))
        for r in stage
    ]

    def encoded(pad: int) -> bytes:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(r | {"remark": "x" * pad} for r in rows)
        return buffer.getvalue().encode()

    bare = len(encoded(0))
    assert bare < size, "too many stages for the size"
    return encoded((size - bare) // len(rows))
