"""Shared by the server tests: an app on a fresh SQLite file, logging in, CSRF tokens from pages."""

import re
import socket
import threading
import time
from contextlib import contextmanager

from fastapi.testclient import TestClient

from celm.server import ServerSettings, create_app
from celm.server.models import TestQuestion, User
from celm.server.users import create_user

PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_app(tmp_path, **settings):
    settings.setdefault("allowed_hosts", ("testserver", "127.0.0.1", "localhost"))  # the test client's name, and serving()'s
    s = ServerSettings(db_url=f"sqlite:///{tmp_path / 'app.db'}", secret_key="test-secret", **settings)
    return create_app(s)


def db(app):
    return app.state.maker()


def add_user(app, username, role, qualified=None):
    with db(app) as s:
        user = create_user(s, username, PASSWORD, role)
        if qualified is not None:  # as if the annotator had taken both tests (rating and label)
            user.qualified = user.qualified_label = qualified
            s.commit()
        return user.id


def login(app, username, password=PASSWORD) -> tuple[TestClient, str]:
    """A client logged in as ``username`` and its session's CSRF token."""
    client = TestClient(app)
    page = client.get("/login")
    token = CSRF.search(page.text).group(1)
    r = client.post("/login", data={"username": username, "password": password, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client, session_csrf(client)


def session_csrf(client) -> str:
    page = client.get("/login")  # any page with the header form (logout) carries the session token
    for path in ("/", "/dashboard", "/annotate", "/adjudicate", "/review", "/redteam", "/test"):
        page = client.get(path)
        m = CSRF.search(page.text)
        if page.status_code == 200 and m:
            return m.group(1)
    raise AssertionError("no page with a CSRF token")


def answer_key(app, task: str = "rating") -> dict[int, int | str]:
    """The key of the rating test ({id: rank}) or of the label test ({id: verdict})."""
    with db(app) as s:
        return {q.id: q.label if task == "label" else q.score for q in s.query(TestQuestion) if (q.label is not None) == (task == "label")}


def user_id(app, username):
    with db(app) as s:
        return s.query(User).filter_by(username=username).one().id


@contextmanager
def serving(app):
    """The app on a real uvicorn server on a free 127.0.0.1 port, in a thread; yields its URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from celm.server.proxy import uvicorn_options

    # as `celm serve` runs it: forwarded headers believed only from the app's configured proxies
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **uvicorn_options(app.state.settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
