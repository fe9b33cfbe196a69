"""leakage: report (and remove) training items that near-duplicate evaluation items."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage
from celm.data.overlap import NEAR_DUPLICATE_THRESHOLD


@stage
class Leakage(RowStage, name="leakage"):
    """Report training items that near-duplicate evaluation items (and remove them)."""

    eval: list[str] = ["celm-bench"]
    threshold: float = NEAR_DUPLICATE_THRESHOLD
    remove: bool = True

    def prepare(self) -> None:
        from celm.curate.pipeline import load_inputs

        self.eval_records = load_inputs(self.params.eval, self.ctx.base_dir)

    def apply(self, records):
        from celm.curate.dedup import leakage

        return leakage(records, self.eval_records, threshold=self.params.threshold, remove=self.params.remove)
