"""Curation (paper 3.2): normalise, deduplicate, augment, filter, classify, annotate and split.

Rooms:

* ``stages/``: one module per stage (a kind, a typed params model, collect/plan/apply), registered
  by name in ``STAGES``; adding a stage is adding one file there;
* ``pipeline``: the pipeline file (``PipelineConfig``) and the outputs (reports, summary);
* ``engine``: runs one stage in memory (``run_stage``) or a pipeline, streaming in one process
  (``streaming``) or on Ray (celm.scale.curate);
* the algorithms the stages call: ``normalize``, ``dedup``, ``inject``, ``paraphrase``,
  ``filters``, ``classify``, ``norms``, ``split``; ``fields`` (which field holds the text),
  ``report`` (``StageReport``).

``celm curate STAGE`` runs one stage, ``celm curate run pipeline.yaml`` chains them.
"""

from celm.curate.engine import run_pipeline, run_stage
from celm.curate.pipeline import PipelineConfig
from celm.curate.report import StageReport
from celm.curate.stages import STAGES

__all__ = ["STAGES", "PipelineConfig", "StageReport", "run_pipeline", "run_stage"]
