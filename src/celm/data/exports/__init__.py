"""Export formats for training frameworks, registered by name.

Each exporter takes a :class:`DatasetBundle` and a folder and writes files that load in their
target without edits. LLaMA-Factory drops columns it does not map, so scenario and norm ids travel
in a side file (``*.meta.jsonl``) next to each export, row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from celm.data.records import EvalItem, PreferencePair, Record, SFTExample
from celm.registry import Registry


@dataclass
class DatasetBundle:
    sft: list[SFTExample] = field(default_factory=list)
    preference: list[PreferencePair] = field(default_factory=list)
    eval: list[EvalItem] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: Sequence[Record]) -> "DatasetBundle":
        bundle = cls()
        for r in records:
            if isinstance(r, SFTExample):
                bundle.sft.append(r)
            elif isinstance(r, PreferencePair):
                bundle.preference.append(r)
            elif isinstance(r, EvalItem):
                bundle.eval.append(r)
            else:
                raise ValueError(f"{r.id}: a {type(r).__name__} cannot be exported for training")
        return bundle

    @classmethod
    def bundled(cls) -> "DatasetBundle":
        from celm.data.bundled import load_benchmark, load_preference_pairs, load_sft_examples

        return cls(sft=load_sft_examples(), preference=load_preference_pairs(), eval=load_benchmark())


EXPORTERS: Registry = Registry("export format")
EXPORTERS.register("llamafactory", "celm.data.exports.llamafactory:export", "alpaca SFT, pairwise ranking data, dataset_info.json")
EXPORTERS.register("trl", "celm.data.exports.trl:export", "conversational messages (SFT), prompt/chosen/rejected (DPO, RM)")
EXPORTERS.register("hf", "celm.data.exports.hf:export", "a Hugging Face DatasetDict saved to disk")


def export(bundle: DatasetBundle, fmt: str, output: str | Path) -> list[Path]:
    """Write ``bundle`` in format ``fmt`` under ``output``; returns the files written."""
    return EXPORTERS.get(fmt)(bundle, Path(output))


def meta_rows(records: Sequence[Record]) -> list[dict]:
    return [{"row": i, "id": r.id, "scenario": r.scenario, "norms": r.norms, "source": r.provenance.source}
            for i, r in enumerate(records)]


__all__ = ["DatasetBundle", "EXPORTERS", "export", "meta_rows"]
