"""Stage 8: split into SFT / RM / eval / judge-holdout, stratified by scenario, seeded, with no
near-duplicate crossing splits (near-duplicate clusters are assigned whole)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from celm.curate.dedup import near_duplicate_clusters
from celm.curate.fields import instruction_text
from celm.curate.report import StageReport
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD
from celm.data.records import Record

DEFAULT_SHARES = {"sft": 0.5, "rm": 0.3, "eval": 0.1, "judge_holdout": 0.1}


def _rank(seed: int, key: str) -> str:
    # A seeded hash gives an order that does not depend on input order or on Python's hash seed.
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def normalized_shares(shares: dict[str, float] | None) -> dict[str, float]:
    shares = dict(shares or DEFAULT_SHARES)
    total = sum(shares.values())
    if total <= 0 or any(v < 0 for v in shares.values()):
        raise ValueError(f"split shares must be non-negative and not all zero: {shares}")
    return {k: v / total for k, v in shares.items()}


def assign_splits(ids: Sequence[str], scenarios: Sequence[str], clusters: Sequence[int], shares: dict[str, float],
                  seed: int, threshold: float) -> tuple[list[str], dict]:
    """The split of each item (by index) and the report's details, from key columns only: ids,
    scenarios (``""`` for none) and near-duplicate cluster ids (the first index of each cluster)."""
    members: dict[int, int] = defaultdict(int)
    for c in clusters:
        members[c] += 1
    by_scenario: dict[str, list[int]] = defaultdict(list)
    for c in members:
        by_scenario[scenarios[c]].append(c)
    assignment: dict[int, str] = {}
    for scenario in sorted(by_scenario):
        ordered = sorted(by_scenario[scenario], key=lambda c: _rank(seed, ids[c]))
        filled = {name: 0 for name in shares}
        size = sum(members[c] for c in ordered)
        for c in ordered:
            # the split furthest below its target share of this scenario takes the next cluster
            name = min(shares, key=lambda k: (filled[k] - shares[k] * size) / max(shares[k], 1e-9) if shares[k] else float("inf"))
            assignment[c] = name
            filled[name] += members[c]
    out = [assignment[c] for c in clusters]
    sizes = {k: 0 for k in shares}
    per_scenario = {s: {k: 0 for k in shares} for s in sorted(by_scenario)}
    for name, scenario in zip(out, scenarios):
        sizes[name] += 1
        per_scenario[scenario][name] += 1
    details = {"shares": shares, "seed": seed, "threshold": threshold, "sizes": sizes,
               "multi_item_clusters": sum(1 for n in members.values() if n > 1),
               "per_scenario": {s or "none": v for s, v in per_scenario.items()}}
    return out, details


def split(records: Sequence[Record], *, shares: dict[str, float] | None = None, seed: int = 0,
          threshold: float = NEAR_DUPLICATE_THRESHOLD) -> tuple[dict[str, list[Record]], StageReport]:
    """Assign near-duplicate clusters to splits so that each scenario's items follow ``shares``."""
    shares = normalized_shares(shares)
    clusters = near_duplicate_clusters([instruction_text(r) for r in records], threshold=threshold)
    names, details = assign_splits([r.id for r in records], [r.scenario or "" for r in records], clusters, shares, seed,
                                   threshold)
    out: dict[str, list[Record]] = {name: [] for name in shares}
    for name, r in zip(names, records):
        out[name].append(r)
    report = StageReport(stage="split", input=len(records), details=details)
    return out, report.finish(len(records))
