"""norms: attach the norms that govern each record's scenario."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, StageParams, stage


class NormsParams(StageParams):
    overwrite: bool = False


@stage
class Norms(RowStage):
    """Attach the norms that govern each record's scenario."""

    name = "norms"
    Params = NormsParams

    def apply(self, records):
        from celm.curate.norms import annotate_norms

        return annotate_norms(records, overwrite=self.params.overwrite)
