"""approve: apply reviewers' decisions to pending paraphrases."""

from __future__ import annotations

from celm.curate.paraphrase import REQUIRED_APPROVALS
from celm.curate.stages.base import GlobalStage, stage
from celm.settings import param


@stage
class Approve(GlobalStage, name="approve"):
    """Apply reviewers' decisions to pending paraphrases."""

    decisions: str = param(..., "JSONL of {id, reviewer, decision: approve|reject}")
    required: int = param(REQUIRED_APPROVALS, "distinct approvals needed")
    drop_unapproved: bool = param(False, "drop pending and rejected paraphrases")

    def run(self, records):
        from celm.curate.paraphrase import apply_approvals, read_decisions

        return apply_approvals(records, read_decisions(self.ctx.resolve(self.params.decisions)),
                               required=self.params.required, drop_unapproved=self.params.drop_unapproved)
