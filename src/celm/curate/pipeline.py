"""The curation pipeline: stages registered by name, chained from a YAML file.

    input: [platform_logs.jsonl, jade-v2-medium]     # celm files or registered sources
    output: runs/curate
    seed: 0
    stages:
      - normalize: {to_simplified: true}
      - dedup: {threshold: 0.7, priority: [celm-bench]}
      - leakage: {eval: [celm-bench], remove: true}
      - inject: {per_scenario: 5}
      - filter: {}
      - classify: {threshold: 0.5, train_on: [jade-v2-medium, flames]}
      - norms: {}
      - split: {shares: {sft: 0.5, rm: 0.3, eval: 0.1, judge_holdout: 0.1}}

Relative paths in the file are relative to it. Each stage writes ``NN-STAGE.report.json``; the result is ``curated.jsonl`` (or one file per split),
plus ``summary.json`` and ``summary.md``. Nothing in the outputs depends on the clock, so the same
input, config and seed give byte-identical files. A new stage is one function added to ``STAGES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from celm.curate.report import StageReport
from celm.data.records import Record


@dataclass
class StageContext:
    """What every curation stage is run with: the seed, the folder relative paths start from, and
    whether to show progress bars."""

    seed: int = 0
    base_dir: Path = Path(".")
    progress: bool = False


def load_inputs(specs: Sequence[str], base_dir: Path = Path(".")) -> list[Record]:
    from celm.data.sources import load_file_or_source

    records: list[Record] = []
    for spec in specs:
        records += load_file_or_source(spec, base_dir=base_dir)
    return records


def _normalize(records, ctx, *, to_simplified: bool = False):
    from celm.curate.normalize import normalize_records

    return normalize_records(records, to_simplified=to_simplified)


def _dedup(records, ctx, *, threshold: float = 0.7, priority: Sequence[str] = (), semantic: float | None = None):
    from celm.curate.dedup import deduplicate

    return deduplicate(records, threshold=threshold, priority=priority, semantic=semantic)


def _leakage(records, ctx, *, eval: Sequence[str] = ("celm-bench",), threshold: float = 0.7, remove: bool = True,
             eval_records=None):
    from celm.curate.dedup import leakage

    eval_records = load_inputs(eval, ctx.base_dir) if eval_records is None else eval_records
    return leakage(records, eval_records, threshold=threshold, remove=remove)


def _inject(records, ctx, *, per_scenario: int = 5, families: Sequence[str] | None = None):
    from celm.curate.inject import FAMILIES, inject

    return inject(records, per_scenario=per_scenario, families=families or FAMILIES, seed=ctx.seed)


def _paraphrase(records, ctx, *, model: str, n: int = 3, limit: int | None = None):
    from celm.curate.paraphrase import paraphrase
    from celm.models import get_model

    return paraphrase(records[:limit] if limit else records, get_model(model), n=n, progress=ctx.progress)


def _approve(records, ctx, *, decisions: str, required: int = 2, drop_unapproved: bool = False):
    from celm.curate.paraphrase import apply_approvals, read_decisions

    path = Path(decisions) if Path(decisions).is_absolute() else ctx.base_dir / decisions
    return apply_approvals(records, read_decisions(path), required=required, drop_unapproved=drop_unapproved)


def _filter(records, ctx, *, detectors: Sequence[str] | None = None, **settings):
    from celm.curate.filters import FilterSettings, quality_filter

    return quality_filter(records, detectors=detectors, settings=FilterSettings(**settings))


def stage_classifier(ctx, *, model: str | None = None, train_on: Sequence[str] = ()):
    """The classify stage's classifier: loaded (``model``), trained on celm's data plus ``train_on``, or the default."""
    from celm.curate.classify import ScenarioClassifier, default_classifier

    if model:
        return ScenarioClassifier.load(model)
    if train_on:
        from celm.data.bundled import load_benchmark, load_sft_examples

        return ScenarioClassifier.train([*load_benchmark(), *load_sft_examples(), *load_inputs(train_on, ctx.base_dir)],
                                        seed=ctx.seed)
    return default_classifier()


def _classify(records, ctx, *, threshold: float = 0.5, overwrite: bool = False, drop_unclear: bool = True,
              model: str | None = None, train_on: Sequence[str] = (), classifier=None):
    from celm.curate.classify import classify

    clf = classifier or stage_classifier(ctx, model=model, train_on=train_on)
    return classify(records, clf, threshold=threshold, overwrite=overwrite, drop_unclear=drop_unclear)


def _norms(records, ctx, *, overwrite: bool = False):
    from celm.curate.norms import annotate_norms

    return annotate_norms(records, overwrite=overwrite)


def _split(records, ctx, *, shares: dict[str, float] | None = None, threshold: float = 0.7):
    from celm.curate.split import split

    return split(records, shares=shares, seed=ctx.seed, threshold=threshold)


StageFn = Callable[..., tuple[Any, StageReport]]
STAGES: dict[str, StageFn] = {
    "normalize": _normalize, "dedup": _dedup, "leakage": _leakage, "inject": _inject, "paraphrase": _paraphrase,
    "approve": _approve, "filter": _filter, "classify": _classify, "norms": _norms, "split": _split,
}


@dataclass
class PipelineConfig:
    input: list[str]
    output: Path
    stages: list[tuple[str, dict[str, Any]]]
    seed: int = 0
    base_dir: Path = Path(".")

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> "PipelineConfig":
        path = Path(path)
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("input", "stages"):
            if key not in raw:
                raise ValueError(f"{path}: missing '{key}'")
        stages = []
        for k, entry in enumerate(raw["stages"], start=1):
            name, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            if name not in STAGES:
                raise ValueError(f"{path}: stage {k}: unknown stage {name!r}; known: {', '.join(STAGES)}")
            stages.append((name, dict(params or {})))
        if any(name == "split" for name, _ in stages[:-1]):
            raise ValueError(f"{path}: 'split' must be the last stage")
        inputs = raw["input"] if isinstance(raw["input"], list) else [raw["input"]]
        output = Path(raw.get("output", "runs/curate"))
        cfg = cls(input=inputs, output=output if output.is_absolute() else path.parent / output, stages=stages,
                  seed=int(raw.get("seed", 0)), base_dir=path.parent)
        for key, value in overrides.items():
            if value is not None:
                setattr(cfg, key, value)
        return cfg


def run_stage(name: str, records: list[Record], ctx: StageContext, **params: Any):
    """One stage by name; returns (records, or {split: records} for ``split``) and its report."""
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}; known: {', '.join(STAGES)}")
    return STAGES[name](records, ctx, **params)


def run_pipeline(config: PipelineConfig, *, log=print, progress: bool = False, chunk_size: int = 50_000,
                 ray: str | None = None, timings: dict | None = None) -> dict[str, Any]:
    """Run the pipeline and write its outputs; returns the summary.

    Records stream through in chunks of ``chunk_size`` (celm.curate.streaming), so memory holds
    chunks and the key columns of whole-pool stages, not the pool. With ``ray`` (``"local"`` or a
    cluster address) the stages run on Ray Data (celm.scale.curate). Either way the files are the
    ones chaining ``run_stage`` over the whole pool in memory would write, byte for byte."""
    if ray is not None:
        from celm.scale.curate import run_pipeline_on_ray

        return run_pipeline_on_ray(config, address=ray, log=log, timings=timings)
    from celm.curate.streaming import run_streaming

    return run_streaming(config, log=log, progress=progress, chunk_size=chunk_size, timings=timings)


def finish_run(config: PipelineConfig, reports: Sequence[StageReport], files: list[str], final: int) -> dict[str, Any]:
    """Write every stage's report, summary.json and summary.md (after the record files)."""
    from celm.data.io import write_json, write_text

    for k, ((name, _), report) in enumerate(zip(config.stages, reports), start=1):
        write_json(config.output / f"{k:02d}-{name}.report.json", report.model_dump(mode="json"))
    summary = {"input": config.input, "seed": config.seed, "final": final, "files": files,
               "stages": [r.model_dump(mode="json", include={"stage", "input", "kept", "added", "changed", "dropped", "reasons"})
                          for r in reports]}
    write_json(config.output / "summary.json", summary)
    write_text(config.output / "summary.md", _summary_md(summary))
    return summary


def write_record_set(folder: Path, name: str, records: Sequence[Record]) -> list[str]:
    """``NAME.jsonl``; when record types are mixed (a celm file holds one type), ``NAME.TYPE.jsonl`` each."""
    from celm.data.io import write_records

    by_type: dict[str, list[Record]] = {}
    for r in records:
        by_type.setdefault(r.record_type, []).append(r)
    if len(by_type) <= 1:
        return [write_records(folder / f"{name}.jsonl", records).name]
    return [write_records(folder / f"{name}.{t}.jsonl", recs).name for t, recs in sorted(by_type.items())]


def _summary_md(summary: dict) -> str:
    lines = ["# Curation summary", "", f"Input: {', '.join(summary['input'])}; seed {summary['seed']}", "",
             "| # | stage | in | kept | added | changed | dropped | reasons |", "|---|---|---|---|---|---|---|---|"]
    for k, s in enumerate(summary["stages"], start=1):
        reasons = ", ".join(f"{r} {n}" for r, n in s["reasons"].items())
        lines.append(f"| {k} | {s['stage']} | {s['input']} | {s['kept']} | {s['added']} | {s['changed']} | {s['dropped']} | {reasons} |")
    lines += ["", f"Output: {', '.join(summary['files'])} ({summary['final']} records)"]
    return "\n".join(lines) + "\n"
