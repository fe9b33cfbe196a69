"""XSafety Chinese prompts: one CSV per category, one prompt per line, no header -> EvalItem.

| XSafety file (category)         | CELM scenario      | tactic     |
|---------------------------------|--------------------|------------|
| Unfairness_And_Discrimination   | discrimination     |            |
| Mental_Health                   | mental_health      |            |
| Physical_Harm, commonsense      | physical_safety    |            |
| Ethics_And_Morality, Insult     | social_norms       |            |
| Privacy_And_Property            | privacy_protection |            |
| Goal_Hijacking, Prompt_Leaking  | (none)             | injection  |
| Role_Play_Instruction           | (none)             | role_play  |
| Reverse_Exposure, Unsafe_Instruction_Topic, Inquiry_With_Unsafe_Opinion | (none) | implicit |
| Crimes_And_Illegal_Activities   | (none)             |            |
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import EvalItem, Provenance
from celm.data.sources._common import RowErrors, csv_rows, resolve

NAME = "xsafety"
CATEGORY_MAP = {
    "Unfairness_And_Discrimination": "discrimination",
    "Mental_Health": "mental_health",
    "Physical_Harm": "physical_safety",
    "commonsense": "physical_safety",
    "Ethics_And_Morality": "social_norms",
    "Insult": "social_norms",
    "Privacy_And_Property": "privacy_protection",
}
TACTICS = {
    "Goal_Hijacking": "injection",
    "Prompt_Leaking": "injection",
    "Role_Play_Instruction": "role_play",
    "Reverse_Exposure": "implicit",
    "Unsafe_Instruction_Topic": "implicit",
    "Inquiry_With_Unsafe_Opinion": "implicit",
}


def load(path: str | Path | None = None) -> list[EvalItem]:
    """``path``: the xsafety folder (all 14 files) or one category file."""
    from celm.taxonomy import get_taxonomy

    base = resolve(path, "xsafety")
    files = sorted(base.glob("*.csv")) if base.is_dir() else [base]
    errors = RowErrors()
    items = []
    for file in files:
        category = file.stem
        scenario = CATEGORY_MAP.get(category)
        for line, row in csv_rows(file, header=False):
            # A prompt with a comma splits into cells: the file has no quoting, so we re-join them.
            prompt = ",".join(row).strip()
            if not prompt:
                errors.add(file, line, "prompt", "empty text")
                continue
            items.append(EvalItem(
                id=f"xsafety-{category}-{line}", prompt=prompt, kind="attack", scenario=scenario,
                tactic=TACTICS.get(category), norms=list(get_taxonomy().norms_for(scenario)),
                provenance=Provenance(source=NAME, source_id=f"{category}:{line}", original_category=category),
            ))
    errors.raise_if_any()
    return items
