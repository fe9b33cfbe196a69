"""COLD (Tsinghua CoAI): human-labelled Chinese offensive language -> JudgeExample.

``label`` 1 (offensive) -> ``risk``, 0 -> ``safe``. The texts are standalone comments, so the
instruction is empty. Topics (race, gender, region) are offensive or discriminatory speech, which
celm files under ``discrimination``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from celm.data.records import JudgeExample, Provenance
from celm.data.sources._common import RowErrors, clean_label, csv_rows, resolve

NAME = "cold"


def load(path: str | Path | None = None, *, split: str = "train") -> list[JudgeExample]:
    file = resolve(path, "cold", f"{split}.csv")
    errors = RowErrors()
    out = []
    for line, row in csv_rows(file):
        text = (row.get("TEXT") or "").strip()
        label = clean_label(row.get("label"))
        if not text:
            errors.add(file, line, "TEXT", "empty text")
            continue
        if label not in ("0", "1"):
            errors.add(file, line, "label", f"expected 0 or 1, got {label!r}")
            continue
        index = clean_label(row.get("column0")) or str(line)
        out.append(JudgeExample(
            id=f"cold-{clean_label(row.get('split')) or split}-{index}-{line}", response=text,
            label="risk" if label == "1" else "safe", scenario="discrimination",
            provenance=Provenance(source=NAME, source_id=index, original_category=clean_label(row.get("topic")),
                                  details={"split": clean_label(row.get("split"))}),
        ))
    errors.raise_if_any()
    return out


load_train = partial(load, split="train")
load_dev = partial(load, split="dev")
