"""Safety-Prompts (Tsinghua CoAI) augmentation templates -> Instruction (one per category).

They are generation templates ("write 10 risky sentences like these: {ex1}..."), useful as
references for paraphrase expansion; the category names map like XSafety's.
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import Instruction, Provenance
from celm.data.sources._common import RowErrors, json_file, resolve
from celm.data.sources.xsafety import CATEGORY_MAP

NAME = "safety-prompts"
FILE = "augmentation_prompts.json"


def load(path: str | Path | None = None) -> list[Instruction]:
    file = resolve(path, "safety-prompts", FILE)
    data = json_file(file)
    errors = RowErrors()
    if not isinstance(data, dict):
        errors.add(file, 1, None, "expected an object of category -> template")
        errors.raise_if_any()
    out = []
    for number, (category, template) in enumerate(data.items(), start=1):
        text = template if isinstance(template, str) else "\n".join(map(str, template))
        if not text.strip():
            errors.add(file, number, category, "empty template")
            continue
        out.append(Instruction(
            id=f"safety-prompts-{category}", text=text, scenario=CATEGORY_MAP.get(category),
            provenance=Provenance(source=NAME, source_id=category, method="augmentation_template", original_category=category),
        ))
    errors.raise_if_any()
    return out
