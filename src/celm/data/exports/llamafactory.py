"""LLaMA-Factory: alpaca-format SFT, alpaca pairwise (``ranking: true``) data, dataset_info.json."""

from __future__ import annotations

import json
from pathlib import Path

from celm.data.exports import DatasetBundle, meta_rows
from celm.data.io import write_json, write_text

SFT_NAME, PREF_NAME, EVAL_NAME = "celm_sft", "celm_preference", "celm_eval"


def _meta(path: Path, records) -> None:
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in meta_rows(records)))


def export(bundle: DatasetBundle, output: Path) -> list[Path]:
    info: dict[str, dict] = {}
    written: list[Path] = []
    if bundle.sft:
        rows = [{"instruction": r.instruction, "input": r.input, "output": r.output, "system": r.system or ""} for r in bundle.sft]
        write_json(output / f"{SFT_NAME}.json", rows)
        _meta(output / f"{SFT_NAME}.meta.jsonl", bundle.sft)
        info[SFT_NAME] = {"file_name": f"{SFT_NAME}.json",
                          "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system"}}
        written += [output / f"{SFT_NAME}.json", output / f"{SFT_NAME}.meta.jsonl"]
    if bundle.preference:
        rows = [{"instruction": r.instruction, "input": r.input, "chosen": r.chosen, "rejected": r.rejected,
                 "system": r.system or ""} for r in bundle.preference]
        write_json(output / f"{PREF_NAME}.json", rows)
        _meta(output / f"{PREF_NAME}.meta.jsonl", bundle.preference)
        info[PREF_NAME] = {"file_name": f"{PREF_NAME}.json", "ranking": True,
                           "columns": {"prompt": "instruction", "query": "input", "chosen": "chosen",
                                       "rejected": "rejected", "system": "system"}}
        written += [output / f"{PREF_NAME}.json", output / f"{PREF_NAME}.meta.jsonl"]
    if bundle.eval:
        # Prompts for `llamafactory-cli train --do_predict`: alpaca rows with an empty output.
        rows = [{"instruction": r.prompt, "input": "", "output": ""} for r in bundle.eval]
        write_json(output / f"{EVAL_NAME}.json", rows)
        _meta(output / f"{EVAL_NAME}.meta.jsonl", bundle.eval)
        info[EVAL_NAME] = {"file_name": f"{EVAL_NAME}.json",
                           "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
        written += [output / f"{EVAL_NAME}.json", output / f"{EVAL_NAME}.meta.jsonl"]
    write_json(output / "dataset_info.json", info)
    return [*written, output / "dataset_info.json"]
