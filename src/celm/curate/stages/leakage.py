"""leakage: report (and remove) training items that near-duplicate evaluation items."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD
from celm.settings import param


@stage
class Leakage(RowStage, name="leakage"):
    """Report training items that near-duplicate evaluation items (and remove them)."""

    eval: list[str] = param(["celm-bench"], "evaluation items to protect (repeat)", "--eval")
    threshold: float = param(NEAR_DUPLICATE_THRESHOLD, "character 3-gram Jaccard at which a training item near-duplicates an eval item")
    remove: bool = param(True, "drop the leaking training items (--report-only: only list them)", "--remove/--report-only")

    def prepare(self) -> None:
        from celm.curate.pipeline import load_inputs

        self.eval_records = load_inputs(self.params.eval, self.ctx.base_dir)

    def apply(self, records):
        from celm.curate.dedup import leakage

        return leakage(records, self.eval_records, threshold=self.params.threshold, remove=self.params.remove)
