"""Curation (paper 3.2): normalise, deduplicate, augment, filter, classify, annotate and split.

Each stage is a function on typed records that returns the records and a :class:`StageReport`;
``celm curate STAGE`` runs one, ``celm curate run pipeline.yaml`` chains them (see ``pipeline``).
"""

from celm.curate.pipeline import STAGES, PipelineConfig, run_pipeline, run_stage
from celm.curate.report import StageReport

__all__ = ["STAGES", "PipelineConfig", "StageReport", "run_pipeline", "run_stage"]
