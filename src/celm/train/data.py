"""Training data: load celm records (or TRL-format files), mix D^h with D^c, turn them into TRL rows.

The paper trains on helpfulness data D^h mixed with safety data D^c (section 4); the mix is stated
as counts or as the safety share, is seeded, and is recorded in the run's ``data_manifest.json``.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from celm.data.convert import pairs_to_sft
from celm.data.exports.trl import preference_row, sft_row
from celm.data.records import PreferencePair, Record, SFTExample
from celm.models.prompts import norms_preamble
from celm.train.config import TrainConfig

Row = dict[str, Any]


def _trl_shaped(path: Path) -> bool:
    """A JSONL file already in TRL's conversational format (``messages`` or list-valued ``chosen``)."""
    if not path.name.endswith(".jsonl"):
        return False
    with path.open(encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    try:
        row = json.loads(first) if first else {}
    except json.JSONDecodeError:
        return False
    return "messages" in row or isinstance(row.get("chosen"), list)


def load_spec(spec: str) -> list[Record] | list[Row]:
    """A celm file, a TRL-format JSONL file, or a registered source name (``celm-sft``, ``jade-v3``, ...)."""
    from celm.data.io import read_records
    from celm.data.sources import load_file_or_source

    def read(path: Path) -> list:
        if _trl_shaped(path):
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return read_records(path)

    return load_file_or_source(spec, reader=read)


def _with_norms(r: Record) -> Record:
    if not r.norms:
        return r
    return r.model_copy(update={"instruction": f"{norms_preamble(r.norms)}\n\n{r.instruction}"})


def to_rows(items: list, stage: str, *, norms_in_prompt: bool = False, system_prompt: str | None = None) -> list[Row]:
    """TRL rows for ``stage``: ``messages`` for SFT, ``prompt``/``chosen``/``rejected`` for RM and DPO."""
    rows: list[Row] = []
    for item in items:
        if isinstance(item, dict):  # already a TRL row
            rows.append(item)
            continue
        if stage == "sft" and isinstance(item, PreferencePair):
            item = pairs_to_sft([item])[0]
        if stage in ("rm", "dpo") and not isinstance(item, PreferencePair):
            raise ValueError(f"{item.id}: {stage} needs preference pairs (chosen/rejected), got {type(item).__name__}")
        if not isinstance(item, (SFTExample, PreferencePair)):
            raise ValueError(f"{item.id}: a {type(item).__name__} cannot be used for training")
        if norms_in_prompt:
            item = _with_norms(item)
        if system_prompt and not item.system:
            item = item.model_copy(update={"system": system_prompt})
        rows.append(sft_row(item) if stage == "sft" else preference_row(item))
    return rows


def _take(items: list, n: int | None, rng: random.Random) -> list:
    items = list(items)
    rng.shuffle(items)
    return items if n is None else items[:n]


def mix(safety: list, helpful: list, *, safety_count: int | None = None, helpful_count: int | None = None,
        safety_ratio: float | None = None, seed: int = 42) -> tuple[list, dict[str, int]]:
    """Shuffle each side, cut to the counts (or to the ratio by subsampling the larger side), interleave."""
    rng = random.Random(seed)
    if safety_ratio is not None and safety and helpful:
        # largest mix with the requested share that both sides can supply
        total = min(len(safety) / safety_ratio, len(helpful) / (1 - safety_ratio))
        safety_count, helpful_count = round(total * safety_ratio), round(total * (1 - safety_ratio))
    chosen_s, chosen_h = _take(safety, safety_count, rng), _take(helpful, helpful_count, rng)
    mixed = chosen_s + chosen_h
    rng.shuffle(mixed)
    return mixed, {"safety": len(chosen_s), "helpful": len(chosen_h)}


def build_training_rows(config: TrainConfig) -> tuple[list[Row], dict[str, Any]]:
    """The rows a run trains on and a manifest of where they came from."""
    safety = [x for spec in config.data for x in load_spec(spec)]
    helpful = [x for spec in config.helpful_data for x in load_spec(spec)]
    mixed, counts = mix(safety, helpful, safety_count=config.safety_count, helpful_count=config.helpful_count,
                        safety_ratio=config.safety_ratio, seed=config.seed)
    rows = to_rows(mixed, config.stage, norms_in_prompt=config.norms_in_prompt, system_prompt=config.system_prompt)
    if not rows:
        raise ValueError("no training rows: check `data` / `helpful_data`")
    scenarios = Counter(r.get("scenario") or "none" for r in rows)
    manifest = {"stage": config.stage, "rows": len(rows), **counts, "data": config.data,
                "helpful_data": config.helpful_data, "scenarios": dict(sorted(scenarios.items())),
                "norms_in_prompt": config.norms_in_prompt}
    return rows, manifest
