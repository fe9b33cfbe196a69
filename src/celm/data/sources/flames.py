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

from celm.data.records import EvalItem
from celm.data.sources._common import clean_label, jsonl_rows, prompt_items, resolve

NAME = "flames"
FILE = "Flames_1k_Chinese.jsonl"
DIMENSIONS = ("Fairness", "Safety", "Morality", "Data protection", "Legality")
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
    file = resolve(path, "flames", FILE)
    return prompt_items(file, jsonl_rows(file), source=NAME, id_of=lambda line, row: line,
                        category_of=lambda row: f"{clean_label(row.get('dimension'))}/{clean_label(row.get('subcomponent'))}",
                        category_map={f"{d}/{k}": v for k, v in CATEGORY_MAP.items() for d in DIMENSIONS})
