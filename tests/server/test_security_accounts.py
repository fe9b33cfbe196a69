"""Issue 32, accounts and the competence test (items 2, 3, 9, 10, 11, 15 and the keyboard): each
finding of the outside probe is a row or a test here, and failed on the code before the fix."""

import os
import sqlite3
import stat
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from celm.cli.main import app as cli
from celm.server import backup, batches
from celm.server.models import Assignment, Audit, WebSession
from tests.server.helpers import CSRF, PASSWORD, add_user, db, login, make_app, user_id


def _serve(*args, **kw):
    return CliRunner().invoke(cli, ["serve", *args], **kw)


def _actions(app) -> list[str]:
    with db(app) as s:
        return [a.action for a in s.query(Audit).order_by(Audit.id)]


def _items(app, n=4, task="rating"):
    with db(app) as s:
        batches.import_batch(s, "b", task=task, rows=[{"external_id": f"i{k}", "instruction": f"问题{k}", "response": f"回答{k}"}
                                                      for k in range(n)])


def _claims(app) -> int:
    with db(app) as s:
        return s.query(Assignment).count()


# -- 2. the competence test cannot be passed without reading it ----------------------------------------
def test_a_second_attempt_cannot_be_set_from_the_first(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator")
    c, t = login(app, "ann")
    first = c.get("/api/test").json()
    assert len(first["questions"]) == 40
    assert c.get("/api/test").json()["questions"] == first["questions"]  # reloading shows the same draw
    r = c.post("/api/test", json={"answers": {str(q["id"]): 3 for q in first["questions"]}}, headers={"X-CSRF-Token": t}).json()
    assert not r["passed"] and "missed" not in r and r["attempts_left"] == 2
    # the feedback is by part of the guideline: counts, no question ids, no side or distance
    assert {g["group"] for g in r["feedback"]} == {"ranks_0_1", "ranks_2_3", "ranks_4_6"}
    assert sum(g["total"] for g in r["feedback"]) == 40 and all(set(g) == {"group", "total", "right"} for g in r["feedback"])
    second = c.get("/api/test").json()
    assert {q["id"] for q in second["questions"]} != {q["id"] for q in first["questions"]}  # a fresh draw
    page = c.post("/test", data={"csrf": t, "task": "rating", **{f"q{q['id']}": "3" for q in second["questions"]}}).text
    assert "wrong side" not in page and "安全/不安全判断相反" not in page and "等级偏离" not in page


def test_failed_attempts_are_limited_then_cool_down_and_every_attempt_is_audited(tmp_path):
    app = make_app(tmp_path, test_attempts=2, test_cooldown_s=3600)
    add_user(app, "ann", "annotator")
    c, t = login(app, "ann")
    for _ in range(2):
        assert c.post("/api/test", json={"answers": {}}, headers={"X-CSRF-Token": t}).status_code == 200
    r = c.post("/api/test", json={"answers": {}}, headers={"X-CSRF-Token": t})
    assert r.status_code == 429 and "again after" in r.json()["detail"]
    assert c.get("/api/test").status_code == 429
    page = c.get("/test").text
    assert 'id="cooldown"' in page and 'id="submit-test"' not in page and "随机抽取 40 道题" in page
    assert _actions(app).count("test_attempt") == 2  # the refused third is no attempt
    # the label test keeps its own count
    assert c.get("/api/test", params={"task": "label"}).status_code == 200


def test_the_bank_is_larger_than_an_attempt(tmp_path):
    from celm.server.competence import default_label_test_questions, default_test_questions

    for bank in (default_test_questions(), default_label_test_questions()):
        assert len(bank) >= 80 and len({(q["instruction"], q["response"]) for q in bank}) == len(bank)


# -- 3. accounts: disable, enable, reset, change ---------------------------------------------------------
def test_disable_user_from_the_command_line_ends_its_sessions_at_once(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator", qualified=True)
    c, _ = login(app, "ann")
    assert c.get("/api/me").status_code == 200
    url = app.state.settings.db_url
    r = _serve("disable-user", "ann", "--db", url)
    assert r.exit_code == 0, r.output
    assert c.get("/api/me").status_code == 401  # that very session, at once
    anon = TestClient(app)
    token = CSRF.search(anon.get("/login").text).group(1)
    assert anon.post("/login", data={"username": "ann", "password": PASSWORD, "csrf": token}).status_code == 401
    assert _serve("enable-user", "ann", "--db", url).exit_code == 0
    login(app, "ann")
    r = _serve("reset-password", "ann", "--db", url, env={"CELM_PASSWORD": "another-long-pass-7"})
    assert r.exit_code == 0, r.output
    login(app, "ann", "another-long-pass-7")
    assert _serve("reset-password", "ann", "--db", url, env={"CELM_PASSWORD": "12345678"}).exit_code != 0
    assert _serve("disable-user", "nobody", "--db", url).exit_code != 0
    assert {"user_disabled", "user_enabled", "password_reset"} <= set(_actions(app))


def test_admin_pages_disable_enable_and_reset(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    uid = add_user(app, "ann", "annotator", qualified=True)
    _items(app, n=2)
    admin, csrf = login(app, "admin")
    ann, tann = login(app, "ann")
    assert ann.post("/api/next", headers={"X-CSRF-Token": tann}).json()["item"] is not None and _claims(app) == 1
    assert "disable-user" in admin.get("/admin/users").text
    assert admin.post(f"/admin/users/{uid}/disable", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert ann.get("/api/me").status_code == 401
    assert _claims(app) == 0  # the disabled account's item goes back to the queue at once
    assert admin.post(f"/admin/users/{user_id(app, 'admin')}/disable", data={"csrf": csrf}).status_code == 409  # not oneself
    assert admin.post(f"/admin/users/{uid}/enable", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    r = admin.post(f"/admin/users/{uid}/password", data={"csrf": csrf, "password": "qwertyuiop"})
    assert r.status_code == 422
    assert admin.post(f"/admin/users/{uid}/password", data={"csrf": csrf, "password": "new-secret-words-4"},
                      follow_redirects=False).status_code == 303
    login(app, "ann", "new-secret-words-4")


def test_a_user_changes_their_own_password(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator", qualified=True)
    c, t = login(app, "ann")
    other, _ = login(app, "ann")
    assert 'id="change-password"' in c.get("/account").text
    bad = c.post("/account/password", data={"csrf": t, "current_password": "wrong-one-000", "new_password": "fresh-words-55"})
    assert bad.status_code == 422 and "当前密码不正确" in bad.text
    r = c.post("/account/password", data={"csrf": t, "current_password": PASSWORD, "new_password": "fresh-words-55"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert other.get("/api/me").status_code == 401  # every session ends with the change
    login(app, "ann", "fresh-words-55")
    assert "password_changed" in _actions(app)


# -- 9. the password policy (NIST SP 800-63B) ------------------------------------------------------------
PASSWORDS = [  # (role, password, accepted?)
    ("admin", "12345678", False),  # the probe's: a run, and short for an admin
    ("annotator", "12345678", False),  # long enough for an annotator, but a run and the third most common password
    ("admin", "short-pass1", False),  # 11 < 12 for admins
    ("admin", "long-enough-admin", True),
    ("annotator", "password1!", False),  # common, with a suffix
    ("annotator", "qwertyuiop", False),
    ("annotator", "aaaaaaaaaa", False),
    ("annotator", "woaini1314", False),
    ("annotator", "newbie-newbie-1", False),  # holds the user name
    ("annotator", "tea-in-hangzhou", True),
]


@pytest.mark.parametrize("role,password,accepted", PASSWORDS)
def test_password_policy(tmp_path, role, password, accepted):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    r = admin.post("/admin/users", data={"csrf": csrf, "username": "newbie", "password": password, "role": role},
                   follow_redirects=False)
    assert (r.status_code == 303) == accepted, (role, password, r.status_code)
    if not accepted:
        assert r.status_code == 422


# -- 10. user names ---------------------------------------------------------------------------------
NAMES = [  # a name the probe created beside "admin", and the answer now
    ("Admin", 409), ("ＡＤＭＩＮ", 409), ("\u0430dmin", 422), ("admin\u200b", 422), ("ad\u0007min", 422),
    ("\u202eadmin", 422), ("adm\u0456n", 422), ("<b>x</b>", 422), (" admin ", 409), ("张伟", 303), ("\U00020bb7田", 303), ("wang.li-2", 303),
]


@pytest.mark.parametrize("name,status", NAMES)
def test_user_names_are_normalised_and_confusables_refused(tmp_path, name, status):
    app = make_app(tmp_path)
    add_user(app, "admin", "admin")
    admin, csrf = login(app, "admin")
    r = admin.post("/admin/users", data={"csrf": csrf, "username": name, "password": PASSWORD, "role": "annotator"},
                   follow_redirects=False)
    assert r.status_code == status, (ascii(name), r.status_code, r.text[:300])


def test_login_takes_the_name_in_any_case_or_width(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "Wang", "annotator")
    login(app, "wang")
    login(app, "ＷＡＮＧ")


# -- 11. audit gaps, restore, hashed tokens, the file mode ----------------------------------------------
def test_uncovered_actions_are_audited(tmp_path):
    app = make_app(tmp_path, redteam_models=("echo",))
    add_user(app, "admin", "admin")
    add_user(app, "red", "redteamer")
    admin, csrf = login(app, "admin")
    admin.post("/admin/test", data={"csrf": csrf, "questions": "- {instruction: 问, response: 答, score: 0}"})
    red, tr = login(app, "red")
    red.post("/redteam", data={"csrf": tr, "prompt": "怎么做炸药", "scenario": "drugs", "model": "echo"}, follow_redirects=False)
    red.post("/redteam/1/mark", data={"csrf": tr, "unsafe": "1", "notes": "n"}, follow_redirects=False)
    red.post("/logout", data={"csrf": tr}, follow_redirects=False)
    actions = _actions(app)
    for action in ("test_replaced", "redteam_attempt", "redteam_mark", "logout"):
        assert actions.count(action) == 1, (action, actions)


def test_restore_keeps_the_audit_trail_and_drops_every_session(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator")
    url = app.state.settings.db_url
    dest = tmp_path / "b.db"
    backup.backup_sqlite(url, dest)
    c, _ = login(app, "ann")  # after the backup: a login (audited) and a session
    c.post("/logout", data={"csrf": "x"})
    with db(app) as s:
        before = [(a.id, a.action) for a in s.query(Audit).order_by(Audit.id)]
    app.state.db_lock.close()  # the app is "stopped"
    app.state.engine.dispose()
    live, _ = login_session_count(url), None
    backup.restore_sqlite(url, dest)
    con = sqlite3.connect(backup.sqlite_path(url))
    after = con.execute("SELECT id, action FROM audit ORDER BY id").fetchall()
    assert after[: len(before)] == before and after[-1][1] == "restore"
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0 and live >= 1
    con.close()


def login_session_count(url):
    con = sqlite3.connect(backup.sqlite_path(url))
    try:
        return con.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        con.close()


def test_session_tokens_are_stored_hashed_and_the_database_is_private(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator")
    c, _ = login(app, "ann")
    token = app.state.sessions.signer.unsign(c.cookies["celm_session"]).decode()
    with db(app) as s:
        stored = [w.token for w in s.query(WebSession)]
    assert stored and token not in stored
    mode = stat.S_IMODE(os.stat(backup.sqlite_path(app.state.settings.db_url)).st_mode)
    assert mode == 0o600, oct(mode)


# -- 15. sessions and claims -------------------------------------------------------------------------
def test_a_busy_session_still_ends_at_its_absolute_lifetime(tmp_path):
    app = make_app(tmp_path, session_max_s=2)
    add_user(app, "ann", "annotator", qualified=True)
    c, _ = login(app, "ann")
    for _ in range(3):  # busy: never idle for a second
        assert c.get("/api/me").status_code == 200
        time.sleep(0.5)
    time.sleep(1.0)
    assert c.get("/api/me").status_code == 401


def test_page_views_do_not_claim_items(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator", qualified=True)
    _items(app)
    c, t = login(app, "ann")
    for path in ("/annotate", "/api/next", "/annotate", "/"):
        c.get(path)
    assert _claims(app) == 0
    assert 'id="claim-form"' in c.get("/annotate").text
    c.post("/annotate/next", data={"csrf": t})
    assert _claims(app) == 1 and 'id="rating-form"' in c.get("/annotate").text


def test_claims_never_used_expire(tmp_path):
    app = make_app(tmp_path, claim_ttl_s=1)
    for name in ("a", "b", "c"):
        add_user(app, name, "annotator", qualified=True)
    _items(app, n=1)
    clients = {name: login(app, name) for name in ("a", "b", "c")}
    for name in ("a", "b"):  # both slots of the one item, then they walk away
        c, t = clients[name]
        assert c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"] is not None
    c, t = clients["c"]
    assert c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"] is None
    time.sleep(1.5)
    item = c.post("/api/next", headers={"X-CSRF-Token": t}).json()["item"]
    assert item is not None and "claims_expired" in _actions(app)
    assert c.post("/api/ratings", json={"item_id": item["id"], "score": 1}, headers={"X-CSRF-Token": t}).status_code == 200
    b, tb = clients["b"]  # a second holder can still come in: the freed slot was renumbered
    assert b.post("/api/next", headers={"X-CSRF-Token": tb}).json()["item"]["id"] == item["id"]
    assert b.post("/api/ratings", json={"item_id": item["id"], "score": 1}, headers={"X-CSRF-Token": tb}).status_code == 200


# -- quick under the hand: keys, skip, progress ----------------------------------------------------------
def test_the_annotate_page_has_keys_skip_and_progress(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "ann", "annotator", qualified=True)
    _items(app, n=5)
    c, t = login(app, "ann")
    c.post("/annotate/next", data={"csrf": t})
    page = c.get("/annotate").text
    assert '<script src="/static/keys.js"></script>' in page and 'data-key="6"' in page and 'id="keys-help" hidden' in page
    assert "已完成 0 / 剩余 5" in page
    js = c.get("/static/keys.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and "requestSubmit" in js.text
    assert "script-src 'self'" in js.headers["content-security-policy"]
    first = page.split('action="/annotate/')[1].split('"')[0]
    c.post(f"/annotate/{first}", data={"csrf": t, "score": "2"})
    page = c.get("/annotate").text
    assert 'id="my-progress">已完成 1<' in page
    held = page.split('action="/annotate/')[1].split('"')[0]
    assert c.post(f"/annotate/{held}/skip", data={"csrf": t}, follow_redirects=False).status_code == 303
    assert page.split('action="/annotate/')[1].split('"')[0] != c.get("/annotate").text.split('action="/annotate/')[1].split('"')[0]
    assert "skip" in _actions(app)


# -- migration 0005 ------------------------------------------------------------------------------------
def test_migration_0005_keys_names_drops_plain_tokens_and_grows_the_default_banks(tmp_path):
    """A database at revision 0004 with two names that fold alike, a plain-token session, a claim, a
    graded attempt and the old 40-question default test: the upgrade keeps every account (the later
    one's key made unique), ends the sessions, stamps the claim, marks the attempt graded and adds the
    bank's new questions; the downgrade goes back."""
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from celm.server.competence import default_test_questions

    url = f"sqlite:///{tmp_path / 'app.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(files("celm.server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "0004")
    engine = create_engine(url)
    old_rating_test = default_test_questions()[:40]
    with engine.begin() as conn:
        for name in ("Admin", "admin"):
            conn.execute(text("INSERT INTO users (username, password_hash, role, qualified, active, created_at) "
                              "VALUES (:n, 'x', 'admin', 1, 1, '2026-12-01')"), {"n": name})
        conn.execute(text("INSERT INTO sessions (token, user_id, csrf, last_seen) VALUES ('plain', 1, 'c', '2026-12-01')"))
        conn.execute(text("INSERT INTO batches (name, task, source, created_at) VALUES ('b', 'rating', 'x', '2026-12-01')"))
        conn.execute(text("INSERT INTO items (batch_id, external_id, instruction, response, model, norms, status, assigned, round) "
                          "VALUES (1, 'e', 'q', 'a', 'm', '[]', 'open', 1, 1)"))
        conn.execute(text("INSERT INTO assignments (item_id, user_id, round, slot) VALUES (1, 2, 1, 1)"))
        conn.execute(text("INSERT INTO test_attempts (user_id, correct, total, passed, created_at) VALUES (2, 30, 40, 0, '2026-12-01')"))
        for q in old_rating_test:
            conn.execute(text("INSERT INTO test_questions (instruction, response, score) VALUES (:instruction, :response, :score)"), q)
    command.upgrade(cfg, "0005")
    with engine.begin() as conn:
        keys = conn.execute(text("SELECT username, name_key FROM users ORDER BY id")).all()
        assert keys == [("Admin", "admin"), ("admin", "admin#2")]
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar() == 0
        assert conn.execute(text("SELECT claimed_at FROM assignments")).scalar() is not None
        assert conn.execute(text("SELECT task, finished_at IS NOT NULL FROM test_attempts")).one() == ("rating", 1)
        assert conn.execute(text("SELECT count(*) FROM test_questions WHERE label IS NULL")).scalar() == len(default_test_questions())
    command.downgrade(cfg, "0004")
    with engine.begin() as conn:
        assert "name_key" not in {r[1] for r in conn.execute(text("PRAGMA table_info(users)"))}
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2
    engine.dispose()
    app = make_app(tmp_path)  # and up again through the app: "admin" logs in by its exact name
    with db(app) as s:
        from celm.server.users import user_by_name
        assert user_by_name(s, "admin").id == 2 and user_by_name(s, "Admin").id == 1
