"""`celm serve backup` while ratings are being written, `celm serve restore` into a fresh path (every
rating acknowledged before the backup is there), and restore refused while the app is up."""

import sqlite3
import threading
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from celm.cli.main import app as cli
from celm.server import ServerSettings, backup, batches, create_app, workflow
from celm.server.models import Audit, RatingRow, User
from tests.server.helpers import add_user, db, make_app


def _serve(*args):
    return CliRunner().invoke(cli, ["serve", *args])


def _rater(app, user_id, acknowledged, stop):
    """An annotator rating as fast as the workflow lets it; notes each rating once it is acknowledged (committed)."""
    with db(app) as s:
        user = s.get(User, user_id)
        while not stop.is_set():
            item = workflow.next_item(s, user)
            if item is None:
                return
            rating = workflow.submit_rating(s, user, item.id, score=item.id % 7)
            acknowledged.append((time.monotonic(), rating.id))


def test_backup_while_ratings_are_written_then_restore_into_a_fresh_path(tmp_path):
    app = make_app(tmp_path)
    with db(app) as s:
        batches.import_batch(s, "load", rows=[{"external_id": f"i{k}", "instruction": f"问题{k}" * 20, "response": f"回答{k}" * 50}
                                              for k in range(3000)])
    ids = [add_user(app, f"ann{k}", "annotator", qualified=True) for k in range(8)]
    acknowledged, stop = [], threading.Event()
    threads = [threading.Thread(target=_rater, args=(app, i, acknowledged, stop)) for i in ids]
    for t in threads:
        t.start()
    while len(acknowledged) < 300:
        time.sleep(0.01)
    started = time.monotonic()
    before = {rid for _, rid in list(acknowledged)}
    r = _serve("backup", str(tmp_path / "backups" / "copy.db"), "--db", app.state.settings.db_url)
    finished = time.monotonic()
    while len(acknowledged) < len(before) + 300:  # the app kept (and keeps) taking ratings
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert r.exit_code == 0, r.output
    assert "backed up to" in r.output and "ratings" in r.output
    during = sum(1 for at, _ in acknowledged if started <= at <= finished)
    print(f"{len(before)} ratings before the backup, {during} acknowledged while it ran, {len(acknowledged)} in all")

    fresh = f"sqlite:///{tmp_path / 'restored' / 'app.db'}"
    r = _serve("restore", str(tmp_path / "backups" / "copy.db"), "--db", fresh)
    assert r.exit_code == 0, r.output
    restored = create_app(ServerSettings(db_url=fresh, secret_key="x"))  # the restored database serves
    with restored.state.maker() as s:
        stored = {r.id for r in s.query(RatingRow)}
        audited = {e.details["rating_id"] for e in s.query(Audit).filter_by(action="rating")}
    everything = {rid for _, rid in acknowledged}
    assert before <= stored  # every rating acknowledged before the backup began
    assert stored <= everything  # and nothing that was never acknowledged
    assert audited == stored  # one instant: each rating with its audit entry, none half-written
    con = sqlite3.connect(tmp_path / "restored" / "app.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # a backup never overwrites a file, and needs a database to copy
    assert _serve("backup", str(tmp_path / "backups" / "copy.db"), "--db", app.state.settings.db_url).exit_code == 2
    r = _serve("backup", str(tmp_path / "x.db"), "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert r.exit_code == 2 and "no database" in r.output and not (tmp_path / "none.db").exists()


def test_restore_refuses_while_the_app_is_up(tmp_path):
    app = make_app(tmp_path)
    add_user(app, "early", "admin")
    url = app.state.settings.db_url
    assert _serve("--db", url, "backup", str(tmp_path / "b.db")).exit_code == 0
    add_user(app, "late", "admin")
    r = _serve("restore", str(tmp_path / "b.db"), "--db", url)
    assert r.exit_code == 2 and "app is running" in r.output
    with db(app) as s:
        assert s.query(User).count() == 2  # untouched
    with TestClient(app):  # served, then shut down: the app lets go of its lock
        pass
    r = _serve("restore", str(tmp_path / "b.db"), "--db", url)
    assert r.exit_code == 0, r.output
    with db(app) as s:
        assert [u.username for u in s.query(User)] == ["early"]
    # while a restore runs, an app on that database does not start
    with backup._exclusive(backup.sqlite_path(url)), pytest.raises(backup.AppRunning, match="restore is running"):
        make_app(tmp_path)
    # only celm databases, only whole ones
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    r = _serve("restore", str(tmp_path / "junk.db"), "--db", url)
    assert r.exit_code == 2 and "junk.db" in r.output


def test_postgresql_gets_the_exact_commands(tmp_path):
    url = "postgresql+psycopg://celm:secret@db.example:5433/celm?sslmode=require"
    r = _serve("backup", "nightly.dump", "--db", url)
    assert r.exit_code == 0, r.output
    assert "pg_dump --format=custom --no-owner --file=nightly.dump 'postgresql://celm@db.example:5433/celm?sslmode=require'" in r.output
    r = _serve("--db", url, "restore", "nightly.dump")
    assert r.exit_code == 0, r.output
    assert ("pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error "
            "'--dbname=postgresql://celm@db.example:5433/celm?sslmode=require' nightly.dump") in r.output
    assert "secret" not in r.output and "PGPASSWORD" in r.output


def test_a_real_server_blocks_restore_until_it_is_gone_even_by_sigkill(tmp_path):
    from celm.server.loadtest import ServerProcess

    url = f"sqlite:///{tmp_path / 'live.db'}"
    server = ServerProcess(url, workers=2).start()
    try:
        assert _serve("backup", str(tmp_path / "b.db"), "--db", url).exit_code == 0  # online: fine
        r = _serve("restore", str(tmp_path / "b.db"), "--db", url)
        assert r.exit_code == 2 and "app is running" in r.output
    finally:
        server.kill()  # no clean shutdown: the kernel still drops the workers' locks
    r = _serve("restore", str(tmp_path / "b.db"), "--db", url)
    assert r.exit_code == 0, r.output
