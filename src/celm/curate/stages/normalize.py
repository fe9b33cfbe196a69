"""normalize: NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage


@stage
class Normalize(RowStage, name="normalize", calls="celm.curate.normalize:normalize_records"):
    """NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

    to_simplified: bool = False
