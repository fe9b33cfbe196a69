"""celm-responses: real model responses, labelled by the project with the four verdicts.

The bundled file ``celm/data/bundled/real_responses.jsonl`` holds what the project wrote itself:
the models' responses (generated with ``celm eval``), the settings they were generated with, and
the labels (two independent passes, adjudicated where they disagree; docs/real-responses.md says
who labelled and how). Prompts are stored by source id, never copied: celm-bench prompts are
joined from the bundled benchmark, public ones (JADE, FLAMES, XSafety, CValues) from their
publishers' files through celm's loaders (``$CELM_SHARED_DATA`` or ``path``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from celm.data.records import EvalItem, LabelledResponse, Provenance
from celm.data.sources._common import RowErrors

NAME = "celm-responses"
FILE = "real_responses.jsonl"


def bundled_rows() -> list[dict]:
    text = resources.files("celm.data.bundled").joinpath(FILE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=8)
def _items_of(source: str, path: str | None) -> dict[str, EvalItem]:
    from celm.data.sources import load_source

    return {i.id: i for i in load_source(source, path) if isinstance(i, EvalItem)}


def load(path: str | Path | None = None) -> list[LabelledResponse]:
    """The labelled set with prompts joined in; ``path`` is the folder of the public data."""
    folder = str(path) if path else None
    errors = RowErrors()
    out: list[LabelledResponse] = []
    for line, row in enumerate(bundled_rows(), start=1):
        source = row["source"]
        items = _items_of(source, None if source == "celm-bench" else folder)
        item = items.get(row["item_id"])
        if item is None:
            errors.add(Path(FILE), line, "item_id", f"{row['item_id']!r} not found in {source}")
            continue
        out.append(LabelledResponse(
            id=row["id"], item_id=item.id, instruction=item.prompt, response=row["response"], model=row["model"],
            kind=item.kind, system_prompt=row.get("system_prompt"), label=row["label"], passes=row["passes"],
            adjudicated=row.get("adjudicated", False), scenario=item.scenario, norms=item.norms,
            provenance=Provenance(source=NAME, source_id=row["id"], method=f"generated:{row['model']}",
                                  original_category=item.provenance.original_category,
                                  details={"prompt_source": source, **row.get("settings", {})}),
        ))
    errors.raise_if_any()
    return out
