"""normalize: NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, StageParams, stage


class NormalizeParams(StageParams):
    to_simplified: bool = False


@stage
class Normalize(RowStage):
    """NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

    name = "normalize"
    Params = NormalizeParams

    def apply(self, records):
        from celm.curate.normalize import normalize_records

        return normalize_records(records, to_simplified=self.params.to_simplified)
