"""split: SFT / RM / eval / judge-holdout, stratified by scenario; near duplicates never cross splits.

One process clusters the collected instructions itself (``plan``); the Ray engine clusters them on
the cluster and hands the clusters to ``assign``. ``run`` is ``split`` over a pool in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from celm.curate.report import StageReport
from celm.curate.stages.base import KeyedStage, stage
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD
from celm.data.records import Record
from celm.settings import param


@stage
class Split(KeyedStage, name="split"):
    """Split by scenario into SFT / RM / eval / judge-holdout; near-duplicates never cross splits."""

    routes = True

    shares: dict[str, float] | None = param(None, "share of each split as NAME=SHARE (repeat), e.g. --share sft=0.6 "
                                            "--share rm=0.2; default celm.curate.split.DEFAULT_SHARES", "--share")
    threshold: float = param(NEAR_DUPLICATE_THRESHOLD, "character 3-gram Jaccard at which two items count as one "
                                                          "(they never cross splits)")

    def prepare(self) -> None:
        from celm.curate.split import normalized_shares

        self.shares = normalized_shares(self.params.shares)
        self.ids: list[str] = []
        self.scenarios: list[str] = []
        self.texts: list[str] = []
        self.assignment: dict[int, str] | list[str] = []

    @staticmethod
    def keys(record: Record) -> tuple[str, str, str]:
        """(id, scenario or "", instruction text)."""
        from celm.curate.fields import instruction_text

        return record.id, record.scenario or "", instruction_text(record)

    def collect(self, record: Record) -> None:
        rid, scenario, text = self.keys(record)
        self.ids.append(rid)
        self.scenarios.append(scenario)
        self.texts.append(text)

    def plan(self) -> StageReport:
        from celm.curate.dedup import near_duplicate_clusters

        clusters = near_duplicate_clusters(self.texts, threshold=self.params.threshold)
        ids, scenarios = self.ids, self.scenarios
        self.ids, self.scenarios, self.texts = [], [], []
        return self.assign(ids, scenarios, clusters)

    def assign(self, ids: Sequence[str], scenarios: Sequence[str], clusters: Sequence[int],
               indices: Sequence[int] | None = None) -> StageReport:
        """Assign items (ids, scenarios, near-duplicate cluster of each, as the first position of its
        cluster) to splits; ``indices`` are their positions in the pool (default 0, 1, ...)."""
        from celm.curate.split import assign_splits

        names, details = assign_splits(ids, scenarios, clusters, self.shares, self.ctx.seed, self.params.threshold)
        self.assignment = names if indices is None else dict(zip(indices, names))
        return StageReport(stage="split", input=len(ids), details=details).finish(len(ids))

    def set_names(self) -> list[str]:
        return list(self.shares)

    def set_of(self, index: int) -> str:
        return self.assignment[index]

    def run(self, records):
        from celm.curate.split import split

        return split(records, shares=self.params.shares, seed=self.ctx.seed, threshold=self.params.threshold)
