"""What every curation stage reports: how many records it kept, changed and dropped, and why.

Reports hold no timings or dates, so the same input and seed give byte-identical reports.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from celm.data.records import Record
from celm.data.stats import primary_text

MAX_EXAMPLES = 5


class StageReport(BaseModel):
    stage: str
    input: int = 0
    kept: int = 0
    changed: int = 0
    dropped: int = 0
    added: int = 0
    reasons: dict[str, int] = Field(default_factory=dict, description="dropped (or flagged) count per reason")
    examples: dict[str, list[dict[str, str]]] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)

    def note(self, reason: str, record: Record, extra: str = "") -> None:
        """Count one record under ``reason`` and keep a few examples of it."""
        self.note_text(reason, record.id, lambda: primary_text(record), extra)

    def note_text(self, reason: str, record_id, text, extra="") -> None:
        """``note`` from a record's id and text, for executors that hold key columns rather than
        records. Each of the three may be a callable, called only for the few examples kept."""
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        bucket = self.examples.setdefault(reason, [])
        if len(bucket) < MAX_EXAMPLES:
            record_id, text, extra = (v() if callable(v) else v for v in (record_id, text, extra))
            example = {"id": record_id, "text": text[:80]}
            if extra:
                example["why"] = extra[:120]
            bucket.append(example)

    def wants_example(self, reason: str) -> bool:
        return len(self.examples.get(reason, ())) < MAX_EXAMPLES

    def finish(self, kept: int) -> "StageReport":
        self.kept = kept
        self.reasons = dict(sorted(self.reasons.items()))
        return self

    def summary(self) -> str:
        parts = [f"{self.stage}: {self.input} in, {self.kept} kept"]
        if self.added:
            parts.append(f"{self.added} added")
        if self.changed:
            parts.append(f"{self.changed} changed")
        if self.dropped:
            parts.append(f"{self.dropped} dropped (" + ", ".join(f"{k} {v}" for k, v in self.reasons.items()) + ")")
        return ", ".join(parts)

    def merge(self, other: "StageReport") -> "StageReport":
        """This report followed by ``other``, a report of the same stage over the records that come
        next: the same numbers and examples as one report over both. This is how batch executors
        (the streaming run, Ray Data) combine their batches' reports. Details named in
        ``ADDITIVE_DETAILS`` add up (counts) or concatenate (lists); every other detail is a setting
        and must agree."""
        if other.stage != self.stage:
            raise ValueError(f"cannot merge a {other.stage!r} report into a {self.stage!r} report")
        for name in ("input", "kept", "changed", "dropped", "added"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        kept = self.kept
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        for reason, examples in other.examples.items():
            bucket = self.examples.setdefault(reason, [])
            bucket.extend(examples[:MAX_EXAMPLES - len(bucket)])
        additive = ADDITIVE_DETAILS.get(self.stage, ())
        for key, value in other.details.items():
            mine = self.details.get(key)
            if key not in self.details:
                self.details[key] = value
            elif key in additive and isinstance(value, list):
                self.details[key] = [*mine, *value]
            elif key in additive:
                merged = dict(mine)
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
                # a detail written sorted (per_norm) stays sorted; a fixed order (assigned_by) stays
                self.details[key] = dict(sorted(merged.items())) if list(mine) == sorted(mine) and list(value) == sorted(value) else merged
            elif mine != value:
                raise ValueError(f"cannot merge {self.stage} reports: {key!r} differs ({mine!r} vs {value!r})")
        return self.finish(kept)


#: Details of row stages that are counts (dicts) or lists over records, so batches' reports add up.
ADDITIVE_DETAILS: dict[str, tuple[str, ...]] = {
    "classify": ("assigned_by",), "norms": ("per_norm",), "leakage": ("leaked_ids",),
}
