"""inject: add prompt-injection variants of sampled instructions."""

from __future__ import annotations

from celm.curate.stages.base import GlobalStage, stage


@stage
class Inject(GlobalStage, name="inject"):
    """Add prompt-injection variants (five template families, in Chinese) of sampled instructions."""

    per_scenario: int = 5
    families: list[str] | None = None

    def run(self, records):
        from celm.curate.inject import FAMILIES, inject

        return inject(records, per_scenario=self.params.per_scenario, families=self.params.families or FAMILIES,
                      seed=self.ctx.seed)
