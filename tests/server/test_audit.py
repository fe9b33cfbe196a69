"""The audit trail: every covered action once, with who, when, what and from where; append-only in
the ORM and in the database; the admin page, the JSON API and `celm serve audit`."""

import json
import os
import re
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from celm.cli.main import app as cli
from celm.data.io import write_records
from celm.data.records import Response
from celm.server import audit
from celm.server.models import AppendOnly, Audit, RatingRow
from tests.server.helpers import CSRF, PASSWORD, add_user, answer_key, db, login, make_app, user_id
from tests.server.test_load import HAVE_PG


def _entries(admin, **params):
    out, before = [], None
    while True:
        page = admin.get("/api/audit", params={**params, **({"before": before} if before else {}), "limit": 50}).json()
        out += page["entries"]
        if page["next_before"] is None:
            return out[::-1]  # oldest first
        before = page["next_before"]


def _failed_login(app, username, password):
    anon = TestClient(app)
    token = CSRF.search(anon.get("/login").text).group(1)
    assert anon.post("/login", data={"username": username, "password": password, "csrf": token}).status_code == 401


def test_every_covered_action_is_audited_once(tmp_path):
    app = make_app(tmp_path, block_size=4, sample_size=2, acceptance_bar=1.0)
    add_user(app, "admin", "admin")
    _failed_login(app, "admin", "wrong-password")
    _failed_login(app, "nobody", "wrong-password")
    admin, csrf = login(app, "admin")
    for name, role in (("ann1", "annotator"), ("ann2", "annotator"), ("boss", "senior"), ("rev", "redteamer")):
        assert admin.post("/admin/users", data={"csrf": csrf, "username": name, "password": PASSWORD, "role": role},
                          follow_redirects=False).status_code == 303
    assert admin.post(f"/admin/users/{user_id(app, 'rev')}/role", data={"csrf": csrf, "role": "reviewer"},
                      follow_redirects=False).status_code == 303
    assert admin.post(f"/admin/users/{user_id(app, 'admin')}/role", data={"csrf": csrf, "role": "annotator"}).status_code == 409
    path = write_records(tmp_path / "b.jsonl", [Response(id=f"r{k}", item_id=f"e{k}", prompt=f"问{k}", response=f"答{k}", model="m")
                                                for k in range(4)])
    admin.post("/admin/import", data={"csrf": csrf, "name": "b", "format": "celm"}, files={"file": ("b.jsonl", path.read_bytes())})
    keys = answer_key(app)
    for name in ("ann1", "ann2"):
        c, t = login(app, name)
        c.post("/test", data={"csrf": t, **{f"q{q}": str(k) for q, k in keys.items()}})
        c.post("/test", data={"csrf": t, **{f"q{q}": str(k) for q, k in keys.items()}})  # already qualified: not again
        while (item := c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"]) is not None:
            score = 6 if name == "ann2" and item["external_id"] == "r0" else 0
            assert c.post("/api/ratings", json={"item_id": item["id"], "score": score}, headers={"X-CSRF-Token": t}).status_code == 200
            c.post("/api/ratings", json={"item_id": item["id"], "score": 3}, headers={"X-CSRF-Token": t})  # a repeat: not a new rating
    boss, tb = login(app, "boss")
    disputed = boss.get("/api/adjudication").json()["items"][0]["id"]
    boss.post("/api/adjudications", json={"item_id": disputed, "score": 6}, headers={"X-CSRF-Token": tb})
    rev, tr = login(app, "rev")
    page = rev.get("/review/1").text
    sample = sorted({int(x) for x in re.findall(r'name="v(\d+)"', page)})
    rev.post("/review/1", data={"csrf": tr, **{f"v{i}": "0" for i in sample}}, follow_redirects=False)  # rejected: returned
    admin.post("/admin/batches/1/close", data={"csrf": csrf}, follow_redirects=False)
    assert admin.get("/export/1/ratings").status_code == 200

    entries = _entries(admin)
    assert Counter(e["action"] for e in entries) == {
        "user_created": 5, "login_failed": 2, "login": 5, "role_changed": 1, "import": 1, "qualified": 2, "rating": 8,
        "adjudication": 1, "review": 1, "rating_superseded": 9, "batch_close": 1, "export": 1,
        "test_attempt": 4}
    by_action = {}
    for e in entries:
        by_action.setdefault(e["action"], []).append(e)
    # who: the admin for what admins do; nobody for the account made from the command line (helpers.add_user)
    assert by_action["user_created"][0]["username"] is None and by_action["user_created"][1]["username"] == "admin"
    assert by_action["role_changed"][0]["details"] == {"target": "rev", "target_id": user_id(app, "rev"), "old": "redteamer",
                                                       "new": "reviewer"}
    # failed logins: the name that was tried, no user id, why
    assert [(e["username"], e["user_id"], e["details"]["reason"]) for e in by_action["login_failed"]] == [
        ("admin", None, "bad_password"), ("nobody", None, "unknown_user")]
    # from where: the client's address on everything done over HTTP (all but the command-line account)
    assert [e for e in entries if e["address"] != "testclient"] == by_action["user_created"][:1]
    # one entry per stored rating, naming it; the whole block went back, so all nine were superseded
    with db(app) as s:
        ratings = sorted(r.id for r in s.query(RatingRow))
    assert sorted(e["details"]["rating_id"] for e in by_action["rating"] + by_action["adjudication"]) == ratings
    assert sorted(e["details"]["rating_id"] for e in by_action["rating_superseded"]) == ratings
    assert all(e["username"] == "rev" and e["details"]["block_id"] == 1 for e in by_action["rating_superseded"])
    assert by_action["review"][0]["details"]["status"] == "rejected"
    assert by_action["batch_close"][0]["details"] == {"batch_id": 1, "blocks": []}  # the returned items are open again
    assert by_action["export"][0]["details"] == {"batch_id": 1, "kind": "ratings", "records": 9}


def test_the_audit_trail_is_append_only(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    with db(app) as s:
        entry = s.query(Audit).one()
        entry.action = "login"
        with pytest.raises(AppendOnly):
            s.commit()
        s.rollback()
        s.delete(s.query(Audit).one())
        with pytest.raises(AppendOnly):
            s.commit()
        s.rollback()
        # the database refuses too, whatever sends the statement
        for sql in ("UPDATE audit SET action = 'login'", "DELETE FROM audit"):
            with pytest.raises(DBAPIError, match="append-only"):
                s.execute(text(sql))
            s.rollback()
        assert s.query(Audit).one().action == "user_created"
    # and no code path tries: nothing in the app updates or deletes audit rows
    src = os.path.join(os.path.dirname(audit.__file__))
    for name in os.listdir(src):
        if name.endswith(".py"):
            code = open(os.path.join(src, name), encoding="utf-8").read()
            assert not re.search(r"(update|delete)\(\s*Audit\b", code), name


@pytest.mark.skipif(not HAVE_PG and not os.environ.get("CI"), reason="no PostgreSQL server binaries (apt install postgresql)")
def test_postgresql_refuses_changes_to_the_audit_trail_too():
    from sqlalchemy import create_engine

    from celm.server.db import migrate
    from celm.server.loadtest import Postgres

    pg = Postgres().start()
    try:
        migrate(pg.url)
        engine = create_engine(pg.url)
        with engine.begin() as con:
            con.execute(text("INSERT INTO audit (at, action, details) VALUES (now(), 'login', '{}')"))
        for sql in ("UPDATE audit SET action = 'export'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as con:
                con.execute(text(sql))
        with engine.connect() as con:
            assert con.execute(text("SELECT action FROM audit")).scalars().all() == ["login"]
        engine.dispose()
    finally:
        pg.stop()


def _fill(app, n):
    """n entries: a failed login each for two names, alternately; the first 10 dated 2020."""
    from datetime import datetime

    with db(app) as s:
        for k in range(n):
            e = audit.record(s, "login_failed", username=f"x{k % 2}", address="10.0.0.1", reason="bad_password")
            if k < 10:
                e.at = datetime(2020, 1, 1)
        s.commit()


def test_audit_page_api_filters_and_pages(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    _fill(app, 230)
    admin, _ = login(app, "admin")
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "审计日志" in page.text and page.text.count('class="audit-row"') == 100
    older = re.search(r'href="([^"]+)" id="audit-older"', page.text).group(1).replace("&amp;", "&")
    second = admin.get(older).text
    assert second.count('class="audit-row"') == 100 and 'id="audit-newest"' in second
    filtered = admin.get("/admin/audit", params={"action": "login_failed", "user": "x1", "since": "2021-01-01"}).text
    assert filtered.count('class="audit-row"') == 100 and "user=x1" in filtered and "action=login_failed" in filtered
    assert len(_entries(admin, action="login_failed", user="x1", since="2021-01-01")) == 110
    assert len(_entries(admin, action="login_failed")) == 230 and len(_entries(admin, since="2021-01-01T00:00:00+08:00")) == 222
    assert _entries(admin, action="login")[0]["username"] == "admin"
    for bad in ({"since": "yesterday"}, {"action": "drop"}, {"before": "x"}):
        assert admin.get("/api/audit", params=bad).status_code == 422
    assert "Audit log" in admin.get("/lang/en").text


def test_cli_audit(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    _fill(app, 12)
    url = app.state.settings.db_url
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "audit", "--since", "2021-01-01", "--action", "login_failed", "--user", "x1", "--json", "--db", url])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert len(rows) == 1 and rows[0]["username"] == "x1" and rows[0]["address"] == "10.0.0.1" and rows[0]["user_id"] is None
    r = runner.invoke(cli, ["serve", "--db", url, "audit", "--limit", "5"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and r.output.count("login_failed") == 5 and "user_created" not in r.output and "newest 5" in r.output
    assert runner.invoke(cli, ["serve", "audit", "--action", "drop", "--db", url]).exit_code == 2
    r = runner.invoke(cli, ["serve", "audit", "--db", f"sqlite:///{tmp_path / 'missing.db'}"])
    assert r.exit_code == 2 and "no database" in r.output and not (tmp_path / "missing.db").exists()
