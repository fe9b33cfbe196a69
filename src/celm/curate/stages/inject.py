"""inject: add prompt-injection variants of sampled instructions."""

from __future__ import annotations

from celm.curate.stages.base import GlobalStage, StageParams, stage


class InjectParams(StageParams):
    per_scenario: int = 5
    families: list[str] | None = None


@stage
class Inject(GlobalStage):
    """Add prompt-injection variants (five template families, in Chinese) of sampled instructions."""

    name = "inject"
    Params = InjectParams

    def run(self, records):
        from celm.curate.inject import FAMILIES, inject

        return inject(records, per_scenario=self.params.per_scenario, families=self.params.families or FAMILIES,
                      seed=self.ctx.seed)
