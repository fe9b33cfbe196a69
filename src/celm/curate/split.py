"""Stage 8: split into SFT / RM / eval / judge-holdout, stratified by scenario, seeded, with no
near-duplicate crossing splits (near-duplicate clusters are assigned whole)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from celm.curate.dedup import near_duplicate_clusters
from celm.curate.fields import instruction_text
from celm.curate.report import StageReport
from celm.data.records import Record

DEFAULT_SHARES = {"sft": 0.5, "rm": 0.3, "eval": 0.1, "judge_holdout": 0.1}


def _rank(seed: int, key: str) -> str:
    # A seeded hash gives an order that does not depend on input order or on Python's hash seed.
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split(records: Sequence[Record], *, shares: dict[str, float] | None = None, seed: int = 0,
          threshold: float = 0.7) -> tuple[dict[str, list[Record]], StageReport]:
    """Assign near-duplicate clusters to splits so that each scenario's items follow ``shares``."""
    shares = dict(shares or DEFAULT_SHARES)
    total = sum(shares.values())
    if total <= 0 or any(v < 0 for v in shares.values()):
        raise ValueError(f"split shares must be non-negative and not all zero: {shares}")
    shares = {k: v / total for k, v in shares.items()}
    clusters = near_duplicate_clusters([instruction_text(r) for r in records], threshold=threshold)
    members: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clusters):
        members[c].append(i)
    by_scenario: dict[str, list[int]] = defaultdict(list)
    for c, idx in members.items():
        by_scenario[records[c].scenario or ""].append(c)
    assignment: dict[int, str] = {}
    for scenario in sorted(by_scenario):
        ordered = sorted(by_scenario[scenario], key=lambda c: _rank(seed, records[c].id))
        filled = {name: 0 for name in shares}
        size = sum(len(members[c]) for c in ordered)
        for c in ordered:
            # the split furthest below its target share of this scenario takes the next cluster
            name = min(shares, key=lambda k: (filled[k] - shares[k] * size) / max(shares[k], 1e-9) if shares[k] else float("inf"))
            assignment[c] = name
            filled[name] += len(members[c])
    out: dict[str, list[Record]] = {name: [] for name in shares}
    for i, r in enumerate(records):
        out[assignment[clusters[i]]].append(r)
    report = StageReport(stage="split", input=len(records), details={
        "shares": shares, "seed": seed, "threshold": threshold,
        "sizes": {k: len(v) for k, v in out.items()},
        "multi_item_clusters": sum(1 for idx in members.values() if len(idx) > 1),
        "per_scenario": {s or "none": {k: sum(1 for r in v if (r.scenario or "") == s) for k, v in out.items()}
                         for s in sorted(by_scenario)},
    })
    return out, report.finish(len(records))
