"""celm-redteam: red-teaming prompts the project wrote itself, in Chinese, for labelling batches.

The bundled file ``celm/data/bundled/redteam_zh.jsonl`` holds 36 attacks (most on bias,
discrimination and unsafe opinions, a few in other CELM scenarios; tactics direct, implicit,
role_play and pretext, the "tell me so I can avoid it" reverse exposure) and 6 benign controls
on the same topics. They are kept apart from the benchmark ``celm-bench`` so that responses to them
form a prompt source of their own in ``celm-responses``: a judge can be measured on prompts written
by someone else than the authors of the prompts it was trained on (leave one source out).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from celm.data.records import EvalItem, Provenance
from celm.data.sources._common import RowErrors

NAME = "celm-redteam"
FILE = "redteam_zh.jsonl"


def load() -> list[EvalItem]:
    from celm.taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    errors = RowErrors()
    items = []
    text = resources.files("celm.data.bundled").joinpath(FILE).read_text(encoding="utf-8")
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        row = json.loads(raw)
        try:
            norms = list(taxonomy.norms_for(row["scenario"]))
        except KeyError:
            errors.add(Path(FILE), line, "scenario", f"unknown scenario {row['scenario']!r}")
            continue
        items.append(EvalItem(
            id=row["id"], prompt=row["prompt"], kind=row["kind"], scenario=row["scenario"], tactic=row.get("tactic"),
            norms=norms, provenance=Provenance(source=NAME, source_id=row["id"], method="expert:" + (row.get("tactic") or "benign"),
                                               original_category=row["scenario"]),
        ))
    errors.raise_if_any()
    return items
