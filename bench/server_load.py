"""Benchmark: the annotation app under load (issue: the annotation app).

50 simulated annotators on 127.0.0.1 submit 20,000 ratings in total (10,000 items, two ratings
each) to `celm serve`, first on SQLite, then on a real PostgreSQL started here (Debian's
`postgresql`). A quarter of the way in the server is killed with SIGKILL and restarted. The audit
then checks the database: no acknowledged rating lost, none duplicated, no item given to more than
two annotators. Reports p50/p95 latency of a rating submission and ratings per second.

Run: .venv/bin/python bench/server_load.py [--ratings 20000]      The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import tempfile


def main() -> None:
    from celm.server.loadtest import Postgres, run_scenario

    ap = argparse.ArgumentParser()
    ap.add_argument("--ratings", type=int, default=20_000)
    ap.add_argument("--annotators", type=int, default=50)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:")
        results["sqlite"] = run_scenario(f"sqlite:///{tmp}/load.db", annotators=args.annotators, ratings=args.ratings)
        print(f"  {results['sqlite']}")
    pg = Postgres().start()
    try:
        print("PostgreSQL:")
        results["postgresql"] = run_scenario(pg.url, annotators=args.annotators, ratings=args.ratings)
        print(f"  {results['postgresql']}")
    finally:
        pg.stop()
    ok = all(r["lost"] == 0 and r["duplicated"] == 0 and r["over_assigned"] == 0 for r in results.values())
    print(f"{args.ratings:,} ratings by {args.annotators} annotators with a SIGKILL mid-load: "
          + "; ".join(f"{db} p95 {r['p95_ms']:.0f} ms, {r['ratings_per_s']:.0f}/s, lost {r['lost']}, duplicated {r['duplicated']}"
                      for db, r in results.items()) + ("" if ok else "  FAILED AUDIT"))


if __name__ == "__main__":
    main()
