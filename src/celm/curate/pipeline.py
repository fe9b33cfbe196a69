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
input, config and seed give byte-identical files. The stages are celm.curate.stages (a new stage
is one file there); celm.curate.engine runs a pipeline, in one process or on Ray.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from celm.curate.report import StageReport
from celm.data.records import Record


def load_inputs(specs: Sequence[str], base_dir: Path = Path(".")) -> list[Record]:
    from celm.data.sources import load_file_or_source

    records: list[Record] = []
    for spec in specs:
        records += load_file_or_source(spec, base_dir=base_dir)
    return records


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
        from pydantic import ValidationError

        from celm.curate.stages import STAGES

        stages = []
        for k, entry in enumerate(raw["stages"], start=1):
            name, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            if name not in STAGES:
                import difflib

                close = difflib.get_close_matches(str(name), STAGES.names(), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"{path}: stage {k}: unknown stage {name!r}{hint} (known: {', '.join(STAGES)})")
            try:
                STAGES.get(name).Params.model_validate(dict(params or {}))
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"{path}: stage {k} ({name}): {problems}") from None
            stages.append((name, dict(params or {})))
        routing = [name for name, _ in stages[:-1] if getattr(STAGES.get(name), "routes", False)]
        if routing:
            raise ValueError(f"{path}: {routing[0]!r} must be the last stage")
        inputs = raw["input"] if isinstance(raw["input"], list) else [raw["input"]]
        output = Path(raw.get("output", "runs/curate"))
        cfg = cls(input=inputs, output=output if output.is_absolute() else path.parent / output, stages=stages,
                  seed=int(raw.get("seed", 0)), base_dir=path.parent)
        for key, value in overrides.items():
            if value is not None:
                setattr(cfg, key, value)
        return cfg


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
