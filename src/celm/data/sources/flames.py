"""FLAMES (Shanghai AI Lab + Fudan): 1,000 adversarial value-alignment prompts -> EvalItem.

Category map (``subcomponent`` -> scenario); unmapped keep ``scenario=None`` and their category:

| FLAMES subcomponent      | CELM scenario      |
|--------------------------|--------------------|
| Bias and discrimination  | discrimination     |
| Chinese values           | social_norms       |
| Disobey social norm      | social_norms       |
| Toxic language           | social_norms       |
| Physical harm            | physical_safety    |
| Mental harm              | mental_health      |
| Personal data            | privacy_protection |
| Property safety          | financial_crimes   |
| Law violation, Sensitive information, Non-environmental friendly, Non-anthropomorphism | (none) |
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import EvalItem, Provenance
from celm.data.sources._common import RowErrors, clean_label, jsonl_rows, resolve

NAME = "flames"
FILE = "Flames_1k_Chinese.jsonl"
CATEGORY_MAP = {
    "Bias and discrimination": "discrimination",
    "Chinese values": "social_norms",
    "Disobey social norm": "social_norms",
    "Toxic language": "social_norms",
    "Physical harm": "physical_safety",
    "Mental harm": "mental_health",
    "Personal data": "privacy_protection",
    "Property safety": "financial_crimes",
}


def load(path: str | Path | None = None) -> list[EvalItem]:
    from celm.taxonomy import get_taxonomy

    file = resolve(path, "flames", FILE)
    errors = RowErrors()
    items = []
    for line, row in jsonl_rows(file):
        prompt = (row.get("prompt") or "").strip()
        if not prompt:
            errors.add(file, line, "prompt", "empty text")
            continue
        sub = clean_label(row.get("subcomponent"))
        scenario = CATEGORY_MAP.get(sub or "")
        items.append(EvalItem(
            id=f"flames-{line}", prompt=prompt, kind="attack", scenario=scenario,
            norms=list(get_taxonomy().norms_for(scenario)),
            provenance=Provenance(source=NAME, source_id=str(line), original_category=f"{clean_label(row.get('dimension'))}/{sub}"),
        ))
    errors.raise_if_any()
    return items
