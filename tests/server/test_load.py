"""50 simulated annotators over HTTP against SQLite and a real PostgreSQL, with a SIGKILL mid-load.

The full-size run (20,000 ratings per database, p95 latency) is ``bench/server_load.py``; here the
same scenario runs at ``CELM_LOAD_RATINGS`` ratings (default 2,000) so the suite stays quick."""

import os
import shutil
from pathlib import Path

import pytest

from celm.server.loadtest import Postgres, run_scenario

RATINGS = int(os.environ.get("CELM_LOAD_RATINGS", "2000"))
HAVE_PG = bool(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))) or shutil.which("initdb") is not None


def _check(figures):
    assert figures["lost"] == 0 and figures["lost_across_kill"] == 0, figures
    assert figures["duplicated"] == 0 and figures["over_assigned"] == 0, figures
    assert figures["acknowledged"] >= RATINGS - 60 and figures["stored"] == RATINGS, figures  # in flight at the kill: stored, unacknowledged
    print(f"p95 {figures['p95_ms']:.0f} ms, {figures['ratings_per_s']:.0f} ratings/s")


def test_load_and_kill_on_sqlite(tmp_path):
    _check(run_scenario(f"sqlite:///{tmp_path / 'load.db'}", annotators=50, ratings=RATINGS, log=lambda m: None))


@pytest.mark.skipif(not HAVE_PG and not os.environ.get("CI"), reason="no PostgreSQL server binaries (apt install postgresql)")
def test_load_and_kill_on_postgresql():
    pg = Postgres().start()
    try:
        _check(run_scenario(pg.url, annotators=50, ratings=RATINGS, log=lambda m: None))
    finally:
        pg.stop()


@pytest.mark.skipif(not HAVE_PG and not os.environ.get("CI"), reason="no PostgreSQL server binaries (apt install postgresql)")
def test_servers_started_together_on_one_empty_postgresql():
    """Several machines behind a proxy start `celm serve` at once on a new database: one migrates
    and seeds the competence test, the others wait for it (docs/scale.md), and all of them serve."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import create_engine, text

    from celm.server.competence import default_label_test_questions, default_test_questions
    from celm.server.loadtest import ServerProcess

    pg = Postgres().start()
    servers = [ServerProcess(pg.url, workers=1) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda s: s.start(timeout=120), servers))
        engine = create_engine(pg.url)
        with engine.connect() as conn:
            # both banks seeded once, not four times over
            assert conn.execute(text("SELECT count(*) FROM test_questions WHERE label IS NULL")).scalar() == len(default_test_questions())
            assert conn.execute(text("SELECT count(*) FROM test_questions WHERE label IS NOT NULL")).scalar() == len(
                default_label_test_questions())
        engine.dispose()
    finally:
        for s in servers:
            s.stop()
        pg.stop()
