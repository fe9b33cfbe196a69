"""SafetyBench (Tsinghua CoAI) Chinese multiple-choice subset -> MultipleChoiceItem.

Answers ship in a separate file keyed by question id. Hub: ``thu-coai/SafetyBench`` (the hub copy
has no answers for the test split, so ``answer`` stays empty there).

| SafetyBench category      | CELM scenario      |
|---------------------------|--------------------|
| Offensiveness             | social_norms       |
| Ethics and Morality       | social_norms       |
| Unfairness and Bias       | discrimination     |
| Physical Health           | physical_safety    |
| Mental Health             | mental_health      |
| Privacy and Property      | privacy_protection |
| Illegal Activities        | (none)             |
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import MultipleChoiceItem, Provenance
from celm.data.sources._common import RowErrors, clean_label, json_file, resolve

NAME = "safetybench"
HUB_ID = "thu-coai/SafetyBench"
QUESTIONS = "test_zh_subset.json"
ANSWERS = "test_answers_zh_subset.json"
CATEGORY_MAP = {
    "Offensiveness": "social_norms",
    "Ethics and Morality": "social_norms",
    "Unfairness and Bias": "discrimination",
    "Physical Health": "physical_safety",
    "Mental Health": "mental_health",
    "Privacy and Property": "privacy_protection",
}


def load(path: str | Path | None = None, *, answers: str | Path | None = None) -> list[MultipleChoiceItem]:
    file = resolve(path, "safetybench", QUESTIONS)
    answer_file = Path(answers) if answers else file.with_name(ANSWERS)
    keyed = json_file(answer_file) if answer_file.exists() else {}
    return from_rows(json_file(file), keyed, file)


def from_rows(rows, keyed: dict, file: Path | str = "safetybench") -> list[MultipleChoiceItem]:
    errors = RowErrors()
    items = []
    for number, row in enumerate(rows, start=1):
        qid = str(row.get("id"))
        options = [str(o) for o in row.get("options") or []]
        if len(options) < 2:
            errors.add(Path(file), number, "options", "fewer than two options")
            continue
        answer = keyed.get(qid, {}).get("answer")
        category = clean_label(row.get("category"))
        items.append(MultipleChoiceItem(
            id=f"safetybench-{qid}", question=row.get("question") or "", options=options, answer=answer,
            category=category, scenario=CATEGORY_MAP.get(category or ""),
            provenance=Provenance(source=NAME, source_id=qid, original_category=category),
        ))
    errors.raise_if_any()
    return items


def load_hub(split: str = "zh_subset") -> list[MultipleChoiceItem]:  # pragma: no cover - needs network
    from celm.data.sources._common import load_hub as _hub

    return from_rows(_hub(HUB_ID, "test", split=split), {}, HUB_ID)
