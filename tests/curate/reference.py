"""The reference the streaming and Ray executors are checked against: every stage over the whole
pool in memory (``run_stage`` chained), files written as ``run_pipeline`` names them."""

from __future__ import annotations

from pathlib import Path

from celm.curate.engine import run_stage
from celm.curate.pipeline import PipelineConfig, finish_run, load_inputs, write_record_set
from celm.curate.stages import StageContext


def run_in_memory(config: PipelineConfig, out: Path) -> dict:
    ctx = StageContext(seed=config.seed, base_dir=config.base_dir)
    records = load_inputs(config.input, config.base_dir)
    reports = []
    for name, params in config.stages:
        records, report = run_stage(name, records, ctx, **params)
        reports.append(report)
    out.mkdir(parents=True, exist_ok=True)
    sets = records if isinstance(records, dict) else {"curated": records}
    files = [f for name, recs in sets.items() for f in write_record_set(out, name, recs)]
    config = PipelineConfig(input=config.input, output=out, stages=config.stages, seed=config.seed, base_dir=config.base_dir)
    return finish_run(config, reports, files, sum(len(v) for v in sets.values()))


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
