"""The edges of the app under attack, one table per finding: request size limits (checked before a
body is read), odd input (ids past SQLite's range, odd dates, bad YAML, ``true`` as a number) answered
404/422 and never 500, the security headers on a 500, forwarded headers trusted only from configured
proxies and the Host header checked, no open redirect, and no caching of logged-in pages."""

import socket
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from celm.server.models import ROLES
from celm.server.security import PRE_CSRF_COOKIE, SESSION_COOKIE
from tests.server.helpers import CSRF, add_user, login, make_app, serving
from tests.server.test_security import SAMPLE, _assert_hardened

MB = 1024 * 1024


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("edges"), redteam_models=("echo",))
    for role in ROLES:
        add_user(app, role, role, qualified=True)
    return app


def _quiet(client: TestClient) -> TestClient:
    """The same session, but a server error comes back as a response (the status is what is tested)."""
    quiet = TestClient(client.app, raise_server_exceptions=False)
    quiet.cookies = client.cookies
    return quiet


@pytest.fixture(scope="module")
def clients(app):
    return {role: (_quiet(c), csrf) for role, (c, csrf) in ((role, login(app, role)) for role in ROLES)}


# -- size limits, checked before the body is read ---------------------------------------------------
def asgi_post(app, path, headers: dict[str, str], body_size: int, *, declare_length: bool) -> tuple[int, int]:
    """POST ``body_size`` bytes straight into the ASGI app in 64 KiB chunks; (status, bytes the app pulled).

    The test client hands the app the whole body at once, so it cannot tell a refused body from a read one."""
    pulled, status = 0, None
    chunk = b"x" * 65536
    sent = 0
    done = anyio.Event()

    async def receive():
        nonlocal pulled, sent
        if sent >= body_size:
            await done.wait()
            return {"type": "http.disconnect"}
        piece = chunk[: body_size - sent]
        sent += len(piece)
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": sent < body_size}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    raw = [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers.items())]
    if declare_length:
        raw.append((b"content-length", str(body_size).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    anyio.run(app, scope, receive, send)
    return status, pulled


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_anonymous_login_body_is_refused_without_being_read(app, declare_length):
    headers = {"content-type": "multipart/form-data; boundary=xyz", "cookie": f"{PRE_CSRF_COOKIE}=whatever"}
    status, pulled = asgi_post(app, "/login", headers, 50 * MB, declare_length=declare_length)
    assert status == 413 and pulled <= 64 * 1024 + 65536, (status, pulled)
    # without the login form's cookie there is no CSRF token to match: refused before any byte is read
    status, pulled = asgi_post(app, "/login", {"content-type": "application/x-www-form-urlencoded"}, 1000,
                               declare_length=declare_length)
    assert status == 403 and pulled == 0, (status, pulled)


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_a_json_body_with_a_wrong_csrf_token_is_not_read(app, clients, declare_length):
    client, _ = clients["annotator"]
    headers = {"content-type": "application/json", "x-csrf-token": "forged",
               "cookie": f"{SESSION_COOKIE}={client.cookies.get(SESSION_COOKIE)}"}
    status, pulled = asgi_post(app, "/api/ratings", headers, 50 * MB, declare_length=declare_length)
    assert status in (403, 413) and pulled <= MB + 65536, (status, pulled)
    status, pulled = asgi_post(app, "/api/ratings", headers, 100_000, declare_length=declare_length)
    assert status == 403 and pulled == 0, (status, pulled)
    # not logged in: nothing read either
    status, pulled = asgi_post(app, "/api/ratings", {"content-type": "application/json"}, 100_000, declare_length=declare_length)
    assert status == 401 and pulled == 0, (status, pulled)


def test_a_declared_50_mb_body_is_answered_413_without_waiting_for_it(app):
    """Over a real socket: the headers alone get the answer; the server does not sit waiting for 50 MB."""
    with serving(app) as url:
        host, port = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(f"POST /login HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                         f"Cookie: {PRE_CSRF_COOKIE}=t\r\nContent-Length: {50 * MB}\r\n\r\n".encode())
            answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "content-security-policy" in answer.lower()


def test_the_upload_limit_is_configurable_and_says_so(tmp_path):
    app = make_app(tmp_path, max_upload_bytes=100_000)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    r = admin.post("/admin/import", data={"csrf": csrf, "format": "celm"}, files={"file": ("big.jsonl", b"x" * 200_000)},
                   headers={"accept": "application/json"})
    assert r.status_code == 413 and "100,000" in r.json()["detail"], r.text
    page = admin.post("/admin/import", data={"csrf": csrf, "format": "celm"}, files={"file": ("big.jsonl", b"x" * 200_000)})
    assert page.status_code == 413 and "100,000" in page.text
    # an ordinary form is held to the small limit whatever the upload limit is
    r = admin.post("/admin/users", data={"csrf": csrf, "username": "x", "password": "y" * (2 * MB), "role": "annotator"})
    assert r.status_code == 413


# -- odd input: 404 / 422, never 500 ----------------------------------------------------------------
ID_FIELDS = ("item_id", "block_id", "batch_id", "attempt_id", "user_id")
HUGE_IDS = [str(2**70), str(2**63), "9" * 400]


@pytest.mark.parametrize("bad", HUGE_IDS)
def test_ids_past_sqlites_range_answer_422_on_every_id_route(app, clients, bad):
    checked = 0
    for key, allowed in app.state.route_roles.items():
        method, path = key.split(" ", 1)
        if not any(f"{{{name}}}" in path for name in ID_FIELDS):
            continue
        client, csrf = clients[allowed[0]]
        url = path.format(**{**SAMPLE, "kind": "ratings", **dict.fromkeys(ID_FIELDS, bad)})
        if method == "GET":
            r = client.get(url, follow_redirects=False)
        elif path.startswith("/api/"):
            r = client.post(url, json={"verdicts": {}}, headers={"X-CSRF-Token": csrf})
        else:
            r = client.post(url, data={"csrf": csrf, "role": "annotator"}, follow_redirects=False)
        assert r.status_code in (404, 422), (key, r.status_code)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("path,role", [("/api/ratings", "annotator"), ("/api/adjudications", "senior")])
@pytest.mark.parametrize("item_id", [2**70, 2**63, -(2**70), True, 1.5, "1", None])
def test_an_odd_item_id_in_a_json_body_is_refused(clients, path, role, item_id):
    client, csrf = clients[role]
    r = client.post(path, json={"item_id": item_id, "score": 1}, headers={"X-CSRF-Token": csrf})
    assert r.status_code in (404, 422), (item_id, r.status_code, r.text)


def test_odd_verdict_ids_are_refused(clients):
    client, csrf = clients["reviewer"]
    r = client.post("/api/review/1", json={"verdicts": {str(2**70): True}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code in (404, 422), r.status_code


def test_true_is_neither_a_score_nor_an_item_id(tmp_path):
    from celm.data.io import write_records
    from celm.data.records import Response

    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    add_user(app, "ann", "annotator", qualified=True)
    admin, csrf = login(app, "admin")
    path = write_records(tmp_path / "r.jsonl", [Response(id="r1", item_id="i1", prompt="问", response="答", model="m")])
    admin.post("/admin/import", data={"csrf": csrf, "format": "celm"}, files={"file": ("r.jsonl", path.read_bytes())})
    ann, csrf = login(app, "ann")
    item = ann.post("/api/next", headers={"X-CSRF-Token": csrf}).json()["item"]
    assert item["id"] == 1
    r = ann.post("/api/ratings", json={"item_id": True, "score": 1}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422, r.text
    for score in (True, False, 1.0, "1"):
        r = ann.post("/api/ratings", json={"item_id": 1, "score": score}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422, (score, r.status_code)
    assert ann.post("/api/ratings", json={"item_id": 1, "score": 1}, headers={"X-CSRF-Token": csrf}).status_code == 200


ODD_QUERIES = [f"before={2**70}", f"before={2**63}", "before=-5", "since=9999-12-31T23:59:59-14:00",
               "since=0001-01-01T00:00:00%2B14:00", "since=2026-13-45", "since=%00", "since=" + "9" * 5000,
               f"limit={2**70}"]


@pytest.mark.parametrize("query", ODD_QUERIES)
@pytest.mark.parametrize("path", ["/admin/audit", "/api/audit"])
def test_odd_audit_filters_answer_422(clients, path, query):
    client, _ = clients["admin"]
    r = client.get(f"{path}?{query}")
    assert r.status_code in (200, 422), (query, r.status_code)
    if not query.startswith("limit"):
        assert r.status_code == 422, (query, r.status_code)


@pytest.mark.parametrize("posted", [
    {"questions": "[unclosed"}, {"questions": "a: b: c"}, {"questions": "- {instruction: q, response: r, score: 1}\n\t- bad"},
    {"questions": "!!python/object/apply:os.system ['true']"},
])
def test_bad_yaml_for_the_competence_test_answers_422(clients, posted):
    client, csrf = clients["admin"]
    r = client.post("/admin/test", data={"csrf": csrf, **posted}, follow_redirects=False)
    assert r.status_code == 422, (posted, r.status_code)


def test_a_competence_file_that_is_not_utf8_answers_422(clients):
    client, csrf = clients["admin"]
    r = client.post("/admin/test", data={"csrf": csrf}, files={"file": ("q.yaml", b"\xff\xfe- x")}, follow_redirects=False)
    assert r.status_code == 422, r.status_code


# -- 500s carry the security headers ------------------------------------------------------------------
def test_a_server_error_carries_the_security_headers(tmp_path):
    app = make_app(tmp_path)

    def boom():
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500 and "a bug" not in r.text
    _assert_hardened(r, "GET /boom (500)")
    assert r.headers.get("cache-control") == "no-store"


# -- forwarded headers and the Host header ----------------------------------------------------------
def _login_form(client, base):
    page = client.get(f"{base}/login")
    return CSRF.search(page.text).group(1)


def test_x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_login_limit(tmp_path):
    app = make_app(tmp_path, login_attempts=3)
    add_user(app, "ann", "annotator")
    with serving(app) as url, httpx.Client() as client:
        token = _login_form(client, url)
        codes = [client.post(f"{url}/login", data={"username": "ann", "password": "wrong-password", "csrf": token},
                             headers={"X-Forwarded-For": f"203.0.113.{k}"}).status_code for k in range(8)]
    assert codes[:3] == [401] * 3 and set(codes[3:]) == {429}, codes


def test_x_forwarded_for_from_a_configured_proxy_is_the_client_address(tmp_path):
    from celm.server.models import Audit

    app = make_app(tmp_path, forwarded_allow_ips=("127.0.0.1",))
    add_user(app, "ann", "annotator")
    with serving(app) as url, httpx.Client() as client:
        token = _login_form(client, url)
        client.post(f"{url}/login", data={"username": "ann", "password": "wrong-password", "csrf": token},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    with app.state.maker() as s:
        assert [a.address for a in s.query(Audit).filter_by(action="login_failed")] == ["203.0.113.7"]


@pytest.mark.parametrize("host,ok", [("localhost:8000", True), ("127.0.0.1", True), ("[::1]:8000", True),
                                     ("evil.example", False), ("localhost.evil.example", False)])
def test_the_host_header_is_checked_against_the_allowed_list(tmp_path, host, ok):
    from celm.server import ServerSettings, create_app

    app = create_app(ServerSettings(db_url=f"sqlite:///{tmp_path / 'h.db'}"))  # the defaults: this machine only
    r = TestClient(app).get("/healthz", headers={"host": host})
    assert (r.status_code == 200) == ok, (host, r.status_code)
    if not ok:
        assert r.status_code == 400
        _assert_hardened(r, f"Host: {host}")


def test_serve_passes_the_proxy_and_host_settings_to_uvicorn(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from celm.cli.main import app as cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    db = f"sqlite:///{tmp_path / 'c.db'}"
    r = CliRunner().invoke(cli, ["serve", "--db", db, "--forwarded-allow-ips", "10.0.0.5,10.0.0.6",
                                 "--allowed-host", "annotate.example.org"])
    assert r.exit_code == 0, r.output
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == ["10.0.0.5", "10.0.0.6"]
    assert seen["app"].state.settings.allowed_hosts == ("annotate.example.org",)
    seen.clear()
    r = CliRunner().invoke(cli, ["serve", "--db", db])
    assert r.exit_code == 0, r.output
    assert seen["proxy_headers"] is False  # nobody's X-Forwarded-For is believed unless a proxy is named
    assert "localhost" in seen["app"].state.settings.allowed_hosts


# -- no open redirect -----------------------------------------------------------------------------
@pytest.mark.parametrize("referer,expected", [
    ("https://evil.example/phish", "/phish"), ("//evil.example/x", "/x"), ("/\\evil.example", "/"),
    ("http://testserver/annotate?task=label", "/annotate?task=label"), ("/review/3", "/review/3"),
    ("javascript:alert(1)", "/"), ("", "/"), ("https://evil.example", "/"), ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
    ("\\\\evil.example/x", "/"),
])
def test_the_language_switch_redirects_only_to_local_paths(app, referer, expected):
    r = TestClient(app).get("/lang/en", headers={"referer": referer}, follow_redirects=False)
    location = r.headers["location"]
    assert r.status_code == 303 and location == expected, (referer, location)
    assert not urlsplit(location).netloc and not location.startswith(("//", "/\\"))


# -- no caching of what a session sees ---------------------------------------------------------------
def test_logged_in_pages_and_exports_are_not_cached(app, clients):
    checked = 0
    for key, allowed in app.state.route_roles.items():
        method, path = key.split(" ", 1)
        if method != "GET":
            continue
        client, _ = clients[allowed[0]]
        r = client.get(path.format(**SAMPLE), follow_redirects=False)
        assert r.headers.get("cache-control") == "no-store", (key, r.status_code, r.headers.get("cache-control"))
        checked += 1
    assert checked >= 20
    r = clients["admin"][0].get("/export/redteam")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert TestClient(app).get("/login").headers["cache-control"] == "no-store"  # it holds a CSRF token

