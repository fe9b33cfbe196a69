"""Dataset statistics: counts per scenario and domain, text lengths, norm coverage, duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from celm.data.records import Record
from celm.data.text import normalize_text
from celm.taxonomy import get_taxonomy


def primary_text(record: Record) -> str:
    """The text a record is 'about' (what dedup and length statistics look at): Record.primary_text."""
    return record.primary_text()


@dataclass
class DatasetStats:
    total: int
    record_types: dict[str, int]
    by_scenario: dict[str, int]
    by_domain: dict[str, int]
    china_centric: int
    length: dict[str, float]
    norm_coverage: dict[str, int] = field(default_factory=dict)
    norms_used: int = 0
    records_with_norms: int = 0
    duplicate_rate: float = 0.0
    duplicates: int = 0

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def compute_stats(records: Sequence[Record]) -> DatasetStats:
    taxonomy = get_taxonomy()
    by_scenario = Counter(r.scenario or "(none)" for r in records)
    by_domain = Counter(taxonomy.domain_of(r.scenario) if r.scenario else "(none)" for r in records)
    lengths = np.array([len(primary_text(r)) for r in records] or [0])
    norms = Counter(n for r in records for n in r.norms)
    texts = Counter(normalize_text(primary_text(r)) for r in records)
    dups = sum(c - 1 for c in texts.values())
    return DatasetStats(
        total=len(records),
        record_types=dict(Counter(type(r).record_type for r in records)),
        by_scenario=dict(sorted(by_scenario.items(), key=lambda kv: -kv[1])),
        by_domain=dict(by_domain),
        china_centric=sum(1 for r in records if r.scenario in taxonomy.china_centric_ids),
        length={"min": float(lengths.min()), "p50": float(np.percentile(lengths, 50)), "p90": float(np.percentile(lengths, 90)),
                "max": float(lengths.max()), "mean": round(float(lengths.mean()), 1)},
        norm_coverage={n: norms.get(n, 0) for n in taxonomy.norm_ids},
        norms_used=sum(1 for n in taxonomy.norm_ids if norms.get(n)),
        records_with_norms=sum(1 for r in records if r.norms),
        duplicate_rate=round(dups / len(records), 4) if records else 0.0,
        duplicates=dups,
    )
