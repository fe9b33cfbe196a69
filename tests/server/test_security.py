"""Role checks on every route (table-driven), CSRF, injection and XSS attempts, sessions, login limits."""

import time

import pytest

from celm.data.records import Response
from celm.data.io import write_records
from celm.server.models import ROLES
from tests.server.helpers import CSRF, add_user, login, make_app

PUBLIC = {"GET /login", "POST /login", "GET /lang/{code}", "GET /healthz"}
# user_id: a spare account, not one of the role clients (the admin routes disable it and reset its password)
SAMPLE = {"item_id": "1", "block_id": "1", "batch_id": "1", "kind": "sft", "attempt_id": "1", "user_id": str(len(ROLES) + 1)}
# routes whose roles are pinned here too, so a change to them is a visible change to this table
ADMIN_ONLY = {"GET /admin/audit", "GET /api/audit", "POST /admin/users/{user_id}/role", "POST /admin/import",
              "POST /admin/batches/{batch_id}/close", "POST /api/batches/{batch_id}/close", "GET /export/{batch_id}/{kind}",
              "POST /admin/users"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sec")
    app = make_app(tmp)
    for role in ROLES:
        add_user(app, role, role, qualified=True)
    assert add_user(app, "spare", "annotator") == int(SAMPLE["user_id"])
    return app


@pytest.fixture
def clients(app):
    return {role: login(app, role) for role in ROLES}


def _routes(app):
    out = []
    for r in app.routes:
        for method in sorted(getattr(r, "methods", None) or []):
            if method in ("GET", "POST"):
                out.append(f"{method} {r.path}")
    return out


def test_every_route_declares_its_roles(app):
    declared = set(app.state.route_roles)
    assert set(_routes(app)) - PUBLIC == declared
    assert {key: app.state.route_roles[key] for key in ADMIN_ONLY} == {key: ("admin",) for key in ADMIN_ONLY}


def _assert_hardened(r, key):
    csp = r.headers.get("content-security-policy", "")
    # scripts only from the app's own static files, never inline (the annotate page's keys)
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src 'self';" in csp, (key, csp)
    assert "unsafe-inline" not in csp, (key, csp)
    assert r.headers.get("x-frame-options") == "DENY" and r.headers.get("x-content-type-options") == "nosniff", key
    assert r.headers.get("referrer-policy") == "same-origin", key
    if "text/html" in r.headers.get("content-type", ""):
        # the only inline style carries this response's nonce; no inline style attributes, no scripts
        nonce = csp.split("'nonce-")[1].split("'")[0]
        assert f'<style nonce="{nonce}">' in r.text and ' style="' not in r.text, key
        assert all(tag.startswith(' src="/static/') for tag in r.text.split("<script")[1:]), key


def test_role_checks_on_every_route(app, clients):
    checked = 0
    routes = sorted(app.state.route_roles.items(), key=lambda kv: kv[0] == "POST /logout")  # log out last
    for key, allowed in routes:
        method, path = key.split(" ", 1)
        url = path.format(**SAMPLE)
        for role, (client, csrf) in clients.items():
            if method == "GET":
                r = client.get(url, follow_redirects=False)
            else:
                r = client.post(url, data={"csrf": csrf}, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
            _assert_hardened(r, key)  # every route, every role, every status: the security headers
            if role in allowed:
                assert r.status_code != 403 or "competence" in r.text, (key, role, r.status_code)
            else:
                assert r.status_code == 403, (key, role, r.status_code)
            checked += 1
    assert checked == len(app.state.route_roles) * len(ROLES)


def test_anonymous_requests_are_sent_to_log_in(app):
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    for key in app.state.route_roles:
        method, path = key.split(" ", 1)
        url = path.format(**SAMPLE)
        r = anon.get(url, follow_redirects=False) if method == "GET" else anon.post(url, follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, key
        else:
            assert r.status_code == 303 and r.headers["location"] == "/login", key


def test_csrf_is_required_on_every_state_change(app, clients):
    for key, allowed in app.state.route_roles.items():
        method, path = key.split(" ", 1)
        if method != "POST":
            continue
        client, _ = clients[allowed[0]]
        r = client.post(path.format(**SAMPLE), data={"csrf": "forged"}, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, key
    client, _ = clients["annotator"]
    r = client.post("/api/ratings", json={"item_id": 1, "score": 1}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    # the login form needs its own token too
    from fastapi.testclient import TestClient

    r = TestClient(app).post("/login", data={"username": "admin", "password": "correct-horse-9"}, follow_redirects=False)
    assert r.status_code == 403


ID_FIELDS = ("item_id", "block_id", "batch_id", "attempt_id", "user_id")


@pytest.mark.parametrize("bad", ["²", "٣", "abc", "-1"])
def test_a_non_ascii_digit_id_is_refused_with_422_not_500(app, clients, bad):
    """``"²".isdigit()`` is true yet ``int("²")`` fails: every id in a path answers 422, never a server error."""
    checked = 0
    for key, allowed in app.state.route_roles.items():
        method, path = key.split(" ", 1)
        if not any(f"{{{name}}}" in path for name in ID_FIELDS):
            continue
        client, csrf = clients[allowed[0]]
        url = path.format(**{**SAMPLE, **dict.fromkeys(ID_FIELDS, bad)})
        if method == "GET":
            r = client.get(url, follow_redirects=False)
        else:
            r = client.post(url, data={"csrf": csrf}, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
        assert r.status_code == 422, (key, bad, r.status_code)
        checked += 1
    assert checked >= 9
    reviewer, csrf = clients["reviewer"]
    r = reviewer.post(f"/api/review/{bad}", json={"verdicts": {}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and "block_id" in r.json()["detail"]


def test_non_ascii_digits_in_form_values_are_not_numbers(tmp_path):
    app = make_app(tmp_path)  # its own: the route table test above empties the shared app's test questions
    add_user(app, "ann", "annotator", qualified=True)
    add_user(app, "senior", "senior")
    annotator, csrf = login(app, "ann")
    # a score of "²" is no score (and item 1 does not exist): 404, not a server error
    assert annotator.post("/annotate/1", data={"csrf": csrf, "score": "²"}, follow_redirects=False).status_code == 404
    # a test answer of "²" is no answer: the test is graded without it
    r = annotator.post("/test", data={"csrf": csrf, "q1": "²", "q²": "1"}, follow_redirects=False)
    assert r.status_code == 200 and "0/40" in r.text
    senior, csrf = login(app, "senior")
    r = senior.post("/adjudicate/1", data={"csrf": csrf, "score": "²"}, follow_redirects=False)
    assert r.status_code == 409  # not awaiting adjudication


ATTACKS = ["<script>alert('xss')</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE users; --", "\" OR 1=1 --"]


def test_injection_and_xss_in_every_text_field_are_stored_as_text(tmp_path):
    app = make_app(tmp_path, redteam_models=("echo",))
    add_user(app, "admin", "admin")
    add_user(app, "ann1", "annotator", qualified=True)
    add_user(app, "ann2", "annotator", qualified=True)
    add_user(app, "senior", "senior")
    add_user(app, "red", "redteamer")
    admin, csrf = login(app, "admin")
    # user names: outside the safe character set, refused (and the refusal shows the name as text)
    for k, attack in enumerate(ATTACKS):
        r = admin.post("/admin/users", data={"csrf": csrf, "username": attack[:60], "password": "correct-horse-9",
                                              "role": "annotator"}, follow_redirects=False)
        assert r.status_code == 422 and "<script>alert" not in r.text and "<img src=x" not in r.text
    page = admin.get("/admin/users").text
    assert "<script>alert" not in page and "<img src=x" not in page
    # item texts and batch names
    responses = [Response(id=f"r{k}", item_id=f"e{k}", prompt=a, response=a, model="m") for k, a in enumerate(ATTACKS)]
    path = write_records(tmp_path / "x.jsonl", responses)
    r = admin.post("/admin/import", data={"csrf": csrf, "name": ATTACKS[0], "task": "rating", "format": "celm"},
                   files={"file": ("x.jsonl", path.read_bytes())}, follow_redirects=False)
    assert r.status_code == 303
    assert "<script>alert" not in admin.get("/admin/import").text
    # comments, through to the senior's page
    c1, t1 = login(app, "ann1")
    c2, t2 = login(app, "ann2")
    for c, t, score in ((c1, t1, 0), (c2, t2, 6)):
        while (item := c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"]) is not None:
            page = c.get("/annotate").text
            assert "<script>alert" not in page and "<img src=x" not in page
            assert any(esc in page for esc in ("&lt;script&gt;", "&lt;img src=x", "&#39;; DROP TABLE", "&#34; OR 1=1"))
            c.post("/api/ratings", json={"item_id": item["id"], "score": score, "comment": ATTACKS[0]}, headers={"X-CSRF-Token": t})
    senior, ts = login(app, "senior")
    page = senior.get("/adjudicate").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    # red-team prompts and notes
    red, tr = login(app, "red")
    red.post("/redteam", data={"csrf": tr, "prompt": ATTACKS[1], "scenario": "drugs", "model": "echo"}, follow_redirects=False)
    red.post("/redteam/1/mark", data={"csrf": tr, "unsafe": "1", "notes": ATTACKS[0]}, follow_redirects=False)
    page = red.get("/redteam").text
    assert "<img src=x" not in page and "<script>alert" not in page
    # SQL in the login form is just a wrong password; the tables are intact
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    token = CSRF.search(anon.get("/login").text).group(1)
    r = anon.post("/login", data={"username": "admin' --", "password": "' OR '1'='1", "csrf": token}, follow_redirects=False)
    assert r.status_code == 401
    assert admin.get("/api/dashboard").json()["batches"][0]["items"] == len(ATTACKS)


def test_sessions_expire_when_idle(tmp_path):
    app = make_app(tmp_path, session_ttl_s=1)
    add_user(app, "ann", "annotator", qualified=True)
    client, _ = login(app, "ann")
    assert client.get("/api/next").status_code == 200
    time.sleep(1.5)
    assert client.get("/api/next").status_code == 401
    assert client.get("/annotate", follow_redirects=False).headers["location"] == "/login"


def test_login_is_rate_limited_and_cookies_are_hardened(tmp_path):
    from fastapi.testclient import TestClient

    app = make_app(tmp_path, login_attempts=3)
    add_user(app, "ann", "annotator")
    anon = TestClient(app)
    token = CSRF.search(anon.get("/login").text).group(1)
    for _ in range(3):
        assert anon.post("/login", data={"username": "ann", "password": "wrong-password", "csrf": token}).status_code == 401
    r = anon.post("/login", data={"username": "ann", "password": "correct-horse-9", "csrf": token}, follow_redirects=False)
    assert r.status_code == 429
    other = make_app(tmp_path / "b", secure_cookies=True) if (tmp_path / "b").mkdir() is None else None
    add_user(other, "ann", "annotator")
    c = TestClient(other, base_url="https://testserver")
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "ann", "password": "correct-horse-9", "csrf": token}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_public_pages_carry_the_security_headers_and_nonces_differ(app):
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    first, second = anon.get("/login"), anon.get("/login")
    _assert_hardened(first, "GET /login")
    _assert_hardened(anon.get("/healthz"), "GET /healthz")
    assert first.headers["content-security-policy"] != second.headers["content-security-policy"]


def test_login_timing_does_not_tell_whether_a_user_exists(tmp_path):
    """Median over 30 tries: an unknown user costs the same argon2 work as a wrong password."""
    import statistics

    from fastapi.testclient import TestClient

    app = make_app(tmp_path, login_attempts=1000)
    add_user(app, "ann", "annotator")
    anon = TestClient(app)
    token = CSRF.search(anon.get("/login").text).group(1)

    def timed(username):
        t0 = time.perf_counter()
        r = anon.post("/login", data={"username": username, "password": "wrong-password", "csrf": token})
        assert r.status_code == 401
        return time.perf_counter() - t0

    known = statistics.median(timed("ann") for _ in range(30))
    unknown = statistics.median(timed(f"nobody{k}") for k in range(30))
    assert 0.5 < unknown / known < 2.0, (known, unknown)  # before the fix: about 5 ms against 125 ms
