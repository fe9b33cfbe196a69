"""Where a curation pipeline runs: the one place that chooses between the engines.

* in memory: ``run_stage`` runs one stage over a pool (``celm curate STAGE``, and the reference the
  other engines are checked against);
* streaming, in one process (celm.curate.streaming): records pass in chunks, so memory holds
  chunks and the key columns of keyed stages, not the pool;
* Ray Data (celm.scale.curate): the same stage objects on a cluster.

All three run the stage objects of celm.curate.stages and write the same files, byte for byte.
"""

from __future__ import annotations

from typing import Any

from celm.curate.pipeline import PipelineConfig
from celm.curate.stages import StageContext, make_stage
from celm.data.records import Record


def run_stage(name: str, records: list[Record], ctx: StageContext, **params: Any):
    """One stage by name over a pool in memory; returns (records, or {set: records} for a stage
    that routes, such as ``split``) and its report."""
    return make_stage(name, params, ctx).run(records)


def run_pipeline(config: PipelineConfig, *, log=print, progress: bool = False, chunk_size: int = 50_000,
                 ray: str | None = None, timings: dict | None = None) -> dict[str, Any]:
    """Run the pipeline and write its outputs; returns the summary.

    Records stream through in chunks of ``chunk_size``; with ``ray`` (``"local"`` or a cluster
    address) the stages run on Ray Data. ``timings``, when given, receives seconds per stage."""
    if ray is not None:
        from celm.scale.curate import run_pipeline_on_ray

        return run_pipeline_on_ray(config, address=ray, log=log, timings=timings)
    from celm.curate.streaming import run_streaming

    return run_streaming(config, log=log, progress=progress, chunk_size=chunk_size, timings=timings)
