"""A Hugging Face ``DatasetDict`` saved to disk, one split per CELM dataset (sft, preference, eval)."""

from __future__ import annotations

from pathlib import Path

from celm.data.exports import DatasetBundle
from celm.data.io import _flat_row, atomic_path


def export(bundle: DatasetBundle, output: Path) -> list[Path]:
    import datasets

    splits = {name: datasets.Dataset.from_list([_flat_row(r) for r in records])
              for name, records in (("sft", bundle.sft), ("preference", bundle.preference), ("eval", bundle.eval)) if records}
    with atomic_path(output, is_dir=True) as tmp:
        datasets.DatasetDict(splits).save_to_disk(str(tmp))
    return [output]
