"""normalize: NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage
from celm.settings import param


@stage
class Normalize(RowStage, name="normalize", calls="celm.curate.normalize:normalize_records"):
    """NFKC, full/half-width, whitespace and control characters (and traditional -> simplified)."""

    to_simplified: bool = param(False, "also convert traditional to simplified Chinese", "--t2s")
