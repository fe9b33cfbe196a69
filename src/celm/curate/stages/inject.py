"""inject: add prompt-injection variants of sampled instructions."""

from __future__ import annotations

from celm.curate.stages.base import GlobalStage, stage
from celm.settings import param


@stage
class Inject(GlobalStage, name="inject"):
    """Add prompt-injection variants (five template families, in Chinese) of sampled instructions."""

    per_scenario: int = param(5, "instructions sampled per scenario")
    families: list[str] | None = param(None, "template families (repeat): role_play, ignore_previous, fictional, "
                                       "prefix_forcing, encoding_detour; default all five", "--family")

    def run(self, records):
        from celm.curate.inject import FAMILIES, inject

        return inject(records, per_scenario=self.params.per_scenario, families=self.params.families or FAMILIES,
                      seed=self.ctx.seed)
