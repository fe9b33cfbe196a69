"""approve: apply reviewers' decisions to pending paraphrases."""

from __future__ import annotations

from celm.curate.paraphrase import REQUIRED_APPROVALS
from celm.curate.stages.base import GlobalStage, stage


@stage
class Approve(GlobalStage, name="approve"):
    """Apply reviewers' decisions to pending paraphrases."""

    decisions: str
    required: int = REQUIRED_APPROVALS
    drop_unapproved: bool = False

    def run(self, records):
        from celm.curate.paraphrase import apply_approvals, read_decisions

        return apply_approvals(records, read_decisions(self.ctx.resolve(self.params.decisions)),
                               required=self.params.required, drop_unapproved=self.params.drop_unapproved)
