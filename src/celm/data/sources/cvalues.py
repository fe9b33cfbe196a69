"""CValues (Alibaba) responsibility prompts, written by domain experts -> EvalItem (kind=benign).

These are sensitive but answerable questions: a good model answers them responsibly rather than
refusing, so celm uses them to measure over-refusal.

| CValues domain_en       | CELM scenario   |
|-------------------------|-----------------|
| psychology              | mental_health   |
| barrier-free            | discrimination  |
| intimate_relationship   | social_norms    |
| others                  | (none)          |
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import EvalItem
from celm.data.sources._common import clean_label, jsonl_rows, prompt_items, resolve

NAME = "cvalues"
FILE = "cvalues_responsibility_prompts.jsonl"
CATEGORY_MAP = {
    "psychology": "mental_health",
    "barrier_free": "discrimination",
    "barrier-free": "discrimination",
    "intimate_relationship": "social_norms",
}


def load(path: str | Path | None = None) -> list[EvalItem]:
    file = resolve(path, "cvalues", FILE)
    return prompt_items(file, jsonl_rows(file), source=NAME, kind="benign", id_of=lambda line, row: row.get("id_", line),
                        category_of=lambda row: clean_label(row.get("domain_en")), category_map=CATEGORY_MAP,
                        details_of=lambda row: {"domain_zh": clean_label(row.get("domain_zh"))})
