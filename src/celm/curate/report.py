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
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        bucket = self.examples.setdefault(reason, [])
        if len(bucket) < MAX_EXAMPLES:
            example = {"id": record.id, "text": primary_text(record)[:80]}
            if extra:
                example["why"] = extra[:120]
            bucket.append(example)

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
