"""Backups of the annotation database, and restoring one.

SQLite: ``backup`` copies the live database with SQLite's online backup API in one step, that is
inside one read transaction: in WAL mode the app keeps writing meanwhile and the copy is the
database as of one instant (every rating acknowledged before it started, none half-written).
``restore`` refuses while an app runs on the database and otherwise writes the backup into it
through the same API, as one SQLite write transaction: a crash half-way leaves the old database.
A restore never rolls the audit trail back (entries made since the backup are kept, and the restore
itself is one) and ends every login session.

"Runs on the database" is told by a lock file next to it (``<db>.lock``): every app process holds a
shared ``flock`` on it while it is up, restore takes it exclusively. The kernel drops the lock when
a process ends, however it ends, so a crashed server never leaves a stale lock behind, and an app
that starts during a restore refuses to start. (A separate file, not the database itself: closing
any other descriptor of the database file would drop SQLite's own locks.)

PostgreSQL: pg_dump / pg_restore do this properly; the functions here only spell out the commands.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy.engine import URL, make_url


class AppRunning(RuntimeError):
    """The app is up on the database that was to be restored (or a restore runs as the app starts)."""


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return Path(u.database)


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _lock(db: Path, mode: int) -> IO:
    fh = open(lock_path(db), "a+")  # noqa: SIM115 (held for the life of the app, closed by release)
    try:
        fcntl.flock(fh, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise
    return fh


def hold_app_lock(url: str) -> IO | None:
    """Called when an app starts: the shared lock that tells restore the app is up."""
    db = sqlite_path(url)
    if db is None:
        return None
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _lock(db, fcntl.LOCK_SH)
    except BlockingIOError:
        raise AppRunning(f"a restore is running on {db}; start the app when it has finished") from None


@contextmanager
def _exclusive(db: Path):
    try:
        fh = _lock(db, fcntl.LOCK_EX)
    except BlockingIOError:
        raise AppRunning(f"the app is running on {db} (it holds {lock_path(db)}); stop it, then restore") from None
    try:
        yield
    finally:
        fh.close()


def _check(path: Path) -> None:
    """A whole, uncorrupted celm database, or ValueError."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"alembic_version", "items", "ratings"} <= tables:
            raise ValueError(f"{path} is not a celm annotation database")
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise ValueError(f"{path} fails SQLite's integrity check: {result}")
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path}: {exc}") from None
    finally:
        con.close()


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (fixed names)
                for t in ("batches", "items", "ratings", "audit") if t in tables}
    finally:
        con.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_sqlite(url: str, dest: Path) -> dict[str, int]:
    """A consistent copy of the app's SQLite database at ``dest`` (which must not exist), while the
    app keeps running. Written beside ``dest`` first and renamed into place once checked, so ``dest``
    is never a half-written file. Returns the row counts of the copy."""
    db = sqlite_path(url)
    if db is None:
        raise ValueError(f"not a SQLite database file: {url}")
    if not db.exists():
        raise FileNotFoundError(f"no database at {db}")
    if dest.exists():
        raise ValueError(f"{dest} exists; give a new path (a backup never overwrites a file)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src, out = sqlite3.connect(db, timeout=30), sqlite3.connect(tmp)
        try:
            src.backup(out)  # all pages in one step: one read transaction, one instant
            # a self-contained file (no -wal beside it), so it opens anywhere, even read-only
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            src.close()
            out.close()
        _check(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return counts(dest)


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _audit_rows_after(db: Path, last_id: int) -> list[tuple]:
    """The live database's audit entries newer than the backup's last one (none if it has no trail)."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        if "audit" not in _tables(con):
            return []
        return con.execute("SELECT id, at, user_id, username, action, details, address FROM audit WHERE id > ? ORDER BY id",
                           (last_id,)).fetchall()
    finally:
        con.close()


def _prepare(work: Path, db: Path, source: Path) -> None:
    """Make the restored copy at ``work``: the audit trail is never rolled back (the live database's
    newer entries are appended to the backup's, then a ``restore`` entry), and no session survives
    (a restore must not bring back logged-out or disabled users' sessions)."""
    import json
    from datetime import datetime, timezone

    con = sqlite3.connect(work)
    try:
        tables = _tables(con)
        if "sessions" in tables:
            con.execute("DELETE FROM sessions")
        if "audit" in tables:
            last = con.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
            kept = _audit_rows_after(db, last)
            con.executemany("INSERT INTO audit (id, at, user_id, username, action, details, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            kept)
            at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
            details = json.dumps({"source": str(source), "audit_entries_kept": len(kept)}, ensure_ascii=False)
            con.execute("INSERT INTO audit (at, action, details) VALUES (?, 'restore', ?)", (at, details))
        con.commit()
    finally:
        con.close()


def restore_sqlite(url: str, source: Path) -> dict[str, int]:
    """Replace the app's SQLite database by the backup at ``source``; refuses while an app is up on it.

    The audit trail survives: entries made since the backup are appended to the backup's, with a
    ``restore`` entry; every login session is dropped. The copy is prepared beside the database and
    written into it as one transaction."""
    db = sqlite_path(url)
    if db is None:
        raise ValueError(f"not a SQLite database file: {url}")
    if not source.exists():
        raise FileNotFoundError(f"no backup at {source}")
    if db.exists() and db.samefile(source):
        raise ValueError("the backup is the database itself")
    _check(source)
    db.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(db):
        fd, work_name = tempfile.mkstemp(prefix=db.name + ".", suffix=".restore", dir=db.parent)  # 0600
        os.close(fd)
        work = Path(work_name)
        try:
            src, out = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(work)
            try:
                src.backup(out)
            finally:
                src.close()
                out.close()
            _prepare(work, db, source)
            if not db.exists():
                os.close(os.open(db, os.O_CREAT | os.O_WRONLY, 0o600))
            work_con, out = sqlite3.connect(work), sqlite3.connect(db, timeout=30)
            try:
                # one write transaction on the target, through its own journal / WAL: all or nothing
                work_con.backup(out)
            finally:
                work_con.close()
                out.close()
        finally:
            work.unlink(missing_ok=True)
    return counts(db)


def _libpq_url(url: str) -> str:
    """The URL without SQLAlchemy's driver and without the password (that comes from PGPASSWORD or ~/.pgpass)."""
    u = make_url(url)
    return URL.create("postgresql", username=u.username, host=u.host, port=u.port, database=u.database,
                      query=u.query).render_as_string(hide_password=False)


def pg_dump_command(url: str, dest: Path) -> str:
    """A consistent online dump (pg_dump reads from one snapshot), in pg_restore's custom format."""
    return shlex.join(["pg_dump", "--format=custom", "--no-owner", f"--file={dest}", _libpq_url(url)])


def pg_restore_command(url: str, source: Path) -> str:
    """Drop and recreate every object of the dump in one transaction (all or nothing); stop the app first."""
    return shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                       f"--dbname={_libpq_url(url)}", str(source)])
