"""paraphrase: ask a model for paraphrases of each seed question (pending until approved)."""

from __future__ import annotations

from celm.curate.stages.base import GlobalStage, stage
from celm.settings import param


@stage
class Paraphrase(GlobalStage, name="paraphrase"):
    """Ask a model for N paraphrases of each seed; they stay pending until two reviewers approve."""

    model: str = param(..., "model spec, e.g. openai:qwen-max@https://... or ct2:qwen2.5-coder-1.5b-instruct", "--model", "-m")
    n: int = param(3, "paraphrases per seed question", "-n", "--n")
    limit: int | None = param(None, "only the first N seed questions")

    def run(self, records):
        from celm.curate.paraphrase import paraphrase
        from celm.models import get_model

        limit = self.params.limit
        return paraphrase(records[:limit] if limit else records, get_model(self.params.model), n=self.params.n,
                          progress=self.ctx.progress)
