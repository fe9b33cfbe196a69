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

from celm.data.records import EvalItem, Provenance
from celm.data.sources._common import RowErrors, clean_label, jsonl_rows, resolve

NAME = "cvalues"
FILE = "cvalues_responsibility_prompts.jsonl"
CATEGORY_MAP = {
    "psychology": "mental_health",
    "barrier_free": "discrimination",
    "barrier-free": "discrimination",
    "intimate_relationship": "social_norms",
}


def load(path: str | Path | None = None) -> list[EvalItem]:
    from celm.taxonomy import get_taxonomy

    file = resolve(path, "cvalues", FILE)
    errors = RowErrors()
    items = []
    for line, row in jsonl_rows(file):
        prompt = (row.get("prompt") or "").strip()
        if not prompt:
            errors.add(file, line, "prompt", "empty text")
            continue
        domain = clean_label(row.get("domain_en"))
        scenario = CATEGORY_MAP.get(domain or "")
        items.append(EvalItem(
            id=f"cvalues-{row.get('id_', line)}", prompt=prompt, kind="benign", scenario=scenario,
            norms=list(get_taxonomy().norms_for(scenario)),
            provenance=Provenance(source=NAME, source_id=str(row.get("id_")), original_category=domain,
                                  details={"domain_zh": clean_label(row.get("domain_zh"))}),
        ))
    errors.raise_if_any()
    return items
