"""TRL dataset formats (docs: dataset_formats): conversational ``messages`` for SFT, and
conversational ``prompt``/``chosen``/``rejected`` for DPO and reward modelling. Extra columns
(id, scenario, norms) ride along; TRL ignores columns it does not use."""

from __future__ import annotations

import json
from pathlib import Path

from celm.data.exports import DatasetBundle
from celm.data.io import write_text
from celm.data.records import PreferencePair, SFTExample


def _prompt_messages(system: str | None, instruction: str, extra: str = "") -> list[dict]:
    content = f"{instruction}\n{extra}".strip() if extra else instruction
    msgs = [{"role": "system", "content": system}] if system else []
    return msgs + [{"role": "user", "content": content}]


def sft_row(r: SFTExample) -> dict:
    """One SFT example as TRL's conversational ``messages`` row."""
    return {"messages": _prompt_messages(r.system, r.instruction, r.input) + [{"role": "assistant", "content": r.output}],
            "id": r.id, "scenario": r.scenario, "norms": r.norms}


def preference_row(r: PreferencePair) -> dict:
    """One pair as TRL's conversational preference row (explicit prompt)."""
    return {"prompt": _prompt_messages(r.system, r.instruction, r.input),
            "chosen": [{"role": "assistant", "content": r.chosen}],
            "rejected": [{"role": "assistant", "content": r.rejected}],
            "id": r.id, "scenario": r.scenario, "norms": r.norms}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def export(bundle: DatasetBundle, output: Path) -> list[Path]:
    written = []
    if bundle.sft:
        written.append(_jsonl(output / "sft.jsonl", [sft_row(r) for r in bundle.sft]))
    if bundle.preference:
        written.append(_jsonl(output / "preference.jsonl", [preference_row(r) for r in bundle.preference]))
    if bundle.eval:
        written.append(_jsonl(output / "eval_prompts.jsonl", [
            {"prompt": [{"role": "user", "content": r.prompt}], "id": r.id, "scenario": r.scenario,
             "norms": r.norms, "kind": r.kind} for r in bundle.eval]))
    return written
