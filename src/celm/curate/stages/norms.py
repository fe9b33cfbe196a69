"""norms: attach the norms that govern each record's scenario."""

from __future__ import annotations

from celm.curate.stages.base import RowStage, stage
from celm.settings import param


@stage
class Norms(RowStage, name="norms", calls="celm.curate.norms:annotate_norms"):
    """Attach the norms that govern each record's scenario."""

    overwrite: bool = param(False, "replace norms a record already has")
