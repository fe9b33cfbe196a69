"""celm-responses: real model responses, labelled by the project with the four verdicts.

The bundled file ``celm/data/bundled/real_responses.jsonl`` holds what the project wrote itself:
the models' responses (generated with ``celm eval``), the settings they were generated with, and
the labels (two independent passes, adjudicated where they disagree; docs/real-responses.md says
who labelled and how), and the labelling batch each row came in (``provenance.details["batch"]``:
``initial`` for the first 942, ``table4`` for the table-4 models, ``qwen-1.5b-b`` for the 1.5B model's
answers to new prompts, ``bias`` for bias, discrimination and opinion prompts from sources no earlier
batch used), so a judge trained before a batch
can be measured on it as held out. Prompts are stored by source id, never copied: the project's own
prompts (celm-bench, celm-redteam) are joined from the bundled files, public ones (JADE, FLAMES, XSafety, CValues) from their
publishers' files through celm's loaders (``$CELM_SHARED_DATA`` or ``path``).

Models often echo the request. So that no public prompt text sits in this repository even inside a
response, every run of 10 or more characters a response copies from a public prompt is stored as a
reference ``⟦p:START:END⟧`` to that prompt and filled in again when the set is loaded.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from celm.data.records import EvalItem, LabelledResponse, Provenance
from celm.data.sources._common import RowErrors

NAME = "celm-responses"
#: prompt sources the project wrote itself: a response's copies of their prompts are stored as they are
OWN_SOURCES = ("celm-bench", "celm-redteam")
FILE = "real_responses.jsonl"
MIN_COPY = 10
_REF = re.compile(r"⟦p:(\d+):(\d+)⟧")


def encode_copies(response: str, prompt: str, min_len: int = MIN_COPY) -> str:
    """Replace each run of ``min_len``+ characters copied from ``prompt`` with a reference to it."""
    if "⟦" in response:
        raise ValueError("response holds the reference marker ⟦")
    out, i = [], 0
    while i < len(response):
        best_len, best_j = 0, -1
        for j in range(len(prompt)):
            if prompt[j] != response[i]:
                continue
            n = 0
            while i + n < len(response) and j + n < len(prompt) and response[i + n] == prompt[j + n]:
                n += 1
            if n > best_len:
                best_len, best_j = n, j
        if best_len >= min_len:
            out.append(f"⟦p:{best_j}:{best_j + best_len}⟧")
            i += best_len
        else:
            out.append(response[i])
            i += 1
    return "".join(out)


def decode_copies(stored: str, prompt: str) -> str:
    return _REF.sub(lambda m: prompt[int(m.group(1)):int(m.group(2))], stored)


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
        items = _items_of(source, None if source in OWN_SOURCES else folder)
        item = items.get(row["item_id"])
        if item is None:
            errors.add(Path(FILE), line, "item_id", f"{row['item_id']!r} not found in {source}")
            continue
        out.append(LabelledResponse(
            id=row["id"], item_id=item.id, instruction=item.prompt, response=decode_copies(row["response"], item.prompt),
            model=row["model"],
            kind=item.kind, system_prompt=row.get("system_prompt"), label=row["label"], passes=row["passes"],
            adjudicated=row.get("adjudicated", False), scenario=item.scenario, norms=item.norms,
            provenance=Provenance(source=NAME, source_id=row["id"], method=f"generated:{row['model']}",
                                  original_category=item.provenance.original_category,
                                  details={"prompt_source": source, "batch": row.get("batch", "initial"),
                                           **row.get("settings", {})}),
        ))
    errors.raise_if_any()
    return out
