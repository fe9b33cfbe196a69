"""approve: apply reviewers' decisions to pending paraphrases."""

from __future__ import annotations

from pathlib import Path

from celm.curate.paraphrase import REQUIRED_APPROVALS
from celm.curate.stages.base import GlobalStage, StageParams, stage


class ApproveParams(StageParams):
    decisions: str
    required: int = REQUIRED_APPROVALS
    drop_unapproved: bool = False


@stage
class Approve(GlobalStage):
    """Apply reviewers' decisions to pending paraphrases."""

    name = "approve"
    Params = ApproveParams

    def run(self, records):
        from celm.curate.paraphrase import apply_approvals, read_decisions

        path = Path(self.params.decisions)
        path = path if path.is_absolute() else self.ctx.base_dir / path
        return apply_approvals(records, read_decisions(path), required=self.params.required,
                               drop_unapproved=self.params.drop_unapproved)
