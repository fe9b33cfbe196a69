"""Engine and sessions. SQLite gets WAL and a busy timeout so concurrent annotators do not collide."""

from __future__ import annotations

import os
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.pool import NullPool


class Base(DeclarativeBase):
    pass


def create_private(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600): it holds password hashes
    and the audit trail. SQLite gives its -wal and -shm files the same mode. An existing file keeps
    its mode (an operator may have chosen one)."""
    from celm.server.backup import sqlite_path

    path = sqlite_path(url)
    if path is None or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        create_private(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged rating survives a crash
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    from importlib.resources import files

    from alembic import command
    from alembic.config import Config

    create_private(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(files("celm.server") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    with schema_lock(url):
        command.upgrade(cfg, "head")


#: PostgreSQL advisory lock key for schema changes and first-start seeding ("celm" in ASCII).
SCHEMA_LOCK = 0x63656C6D


@contextmanager
def schema_lock(url: str):
    """On PostgreSQL, one ``celm serve`` process at a time migrates and seeds: several servers
    started together on an empty database (several machines behind a proxy) would otherwise both
    create the tables, and one would fail. Elsewhere (SQLite: one machine) nothing to do."""
    if not url.startswith("postgresql"):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": SCHEMA_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEMA_LOCK})
                conn.commit()
    finally:
        engine.dispose()
