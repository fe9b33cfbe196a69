"""Read the file shapes people already have into celm records, and say which shape was found.

``celm judge score`` takes (prompt, response) pairs and ``celm generate`` / ``celm eval`` take
prompts in any of these shapes, besides celm's own records:

| shape | fields |
|---|---|
| ``flat`` | ``prompt`` / ``instruction`` / ``question`` / ``query`` and ``response`` / ``output`` / ``answer`` / ``completion`` |
| ``alpaca`` | ``instruction`` (+ ``input``, appended on a new line) and ``output`` |
| ``sharegpt`` | ``conversations``: ``[{"from": "human"|"gpt"|"system", "value": ...}]`` |
| ``openai`` | ``messages``: ``[{"role": "user"|"assistant"|"system", "content": ...}]`` |

The pair is the last user turn and the assistant turn after it. Read as prompts, a conversation
keeps its turns up to the last user turn in ``messages`` (a multi-turn item). Optional ``id``, ``model``,
``kind`` (attack/benign) and ``scenario`` are kept. A row that fits no shape is reported as
``file:line`` with the fields it has; nothing is returned unless every row fits.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from celm.data.errors import DataValidationError, Issue
from celm.data.records import EvalItem, Instruction, Provenance, Record, Response, detect_record_type

PROMPT_KEYS = ("prompt", "instruction", "question", "query")
RESPONSE_KEYS = ("response", "output", "answer", "completion")
_USER = {"user", "human"}
_ASSISTANT = {"assistant", "gpt", "bot", "model"}
EXPECTED = ("expected celm records, a prompt field (prompt/instruction/question/query) with a response field "
            "(response/output/answer/completion), alpaca instruction/input/output, ShareGPT 'conversations' "
            "or OpenAI 'messages'")


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text"]
        return "".join(parts) if parts else None
    return None


def _turns(row: dict) -> tuple[str, list[tuple[str, str]]] | None:
    if isinstance(row.get("messages"), list):
        shape, key_role, key_text = "openai", "role", "content"
        raw = row["messages"]
    elif isinstance(row.get("conversations"), list):
        shape, key_role, key_text = "sharegpt", "from", "value"
        raw = row["conversations"]
    else:
        return None
    turns = []
    for m in raw:
        if not isinstance(m, dict):
            return None
        role, text = str(m.get(key_role, "")).lower(), _text(m.get(key_text))
        if text is None:
            return None
        turns.append(("user" if role in _USER else "assistant" if role in _ASSISTANT else role, text))
    return shape, turns


def _flat_prompt(row: dict) -> tuple[str, str] | None:
    if isinstance(row.get("instruction"), str) and "output" in row:
        extra = row.get("input")
        prompt = row["instruction"] + (f"\n{extra}" if isinstance(extra, str) and extra.strip() else "")
        return "alpaca", prompt
    key = next((k for k in PROMPT_KEYS if isinstance(row.get(k), str)), None)
    return ("flat", row[key]) if key else None


def pair_of(row: dict) -> tuple[str, str, str] | None:
    """(shape, prompt, response) of a row, or None when it fits no shape."""
    conv = _turns(row)
    if conv:
        shape, turns = conv
        last_answer = max((k for k, (role, _) in enumerate(turns) if role == "assistant"), default=None)
        if last_answer is None:
            return None
        user = max((k for k, (role, _) in enumerate(turns[:last_answer]) if role == "user"), default=None)
        return None if user is None else (shape, turns[user][1], turns[last_answer][1])
    found = _flat_prompt(row)
    key = next((k for k in RESPONSE_KEYS if isinstance(row.get(k), str)), None)
    if not found or not key:
        return None
    return found[0], found[1], row[key]


def prompt_of(row: dict) -> tuple[str, str] | None:
    """(shape, prompt) of a row: the last user turn of a conversation, or the prompt field."""
    conv = _turns(row)
    if conv:
        shape, turns = conv
        user = max((k for k, (role, _) in enumerate(turns) if role == "user"), default=None)
        return None if user is None else (shape, turns[user][1])
    return _flat_prompt(row)


def _history_to(row: dict) -> list[dict] | None:
    """A conversation's turns up to its last user turn (a multi-turn item, CHiSafetyBench-style), or
    None for a single prompt or turns whose roles a chat model does not take."""
    conv = _turns(row)
    if not conv:
        return None
    turns = conv[1]
    user = max((k for k, (role, _) in enumerate(turns) if role == "user"), default=None)
    kept = turns[: user + 1] if user is not None else []
    if len(kept) < 2 or any(role not in ("system", "user", "assistant") for role, _ in kept):
        return None
    return [{"role": role, "content": text} for role, text in kept]


def _common(row: dict, path: Path, number: int, shape: str) -> dict:
    ident = str(row.get("id") or f"{path.stem}-{number}")
    kind = row.get("kind") if row.get("kind") in ("attack", "benign") else "attack"
    return {"id": ident, "kind": kind, "scenario": row.get("scenario") or None,
            "provenance": Provenance(source=path.name, source_id=ident, method=f"shape:{shape}")}


def _read(path: str | Path, celm_types: tuple[type[Record], ...], convert) -> tuple[list[Record], dict[str, int]]:
    from pydantic import ValidationError

    from celm.data.io import _raw_rows

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    issues: list[Issue] = []
    out: list[Record] = []
    shapes: Counter = Counter()
    for number, row in _raw_rows(path, issues):
        if not isinstance(row, dict):
            issues.append(Issue(str(path), number, None, f"row is a {type(row).__name__}, not an object"))
            continue
        celm_error = None
        cls = detect_record_type(row)
        if cls in celm_types:
            try:
                out.append(cls.model_validate(row))
                shapes["celm"] += 1
                continue
            except ValidationError as exc:  # maybe another shape that shares a field name ("prompt")
                celm_error = exc
        try:
            made = convert(row, path, number)
        except ValidationError as exc:
            celm_error = exc
            made = None
        if made is None and celm_error is not None:
            for err in celm_error.errors():
                field = ".".join(str(p) for p in err["loc"]) or None
                issues.append(Issue(str(path), number, field, err["msg"].removeprefix("Value error, ")))
            continue
        if made is None:
            issues.append(Issue(str(path), number, None, f"fits no known shape ({EXPECTED}); fields: {sorted(row)}"))
            continue
        shape, record = made
        out.append(record)
        shapes[shape] += 1
    seen: dict[str, int] = {}
    for k, r in enumerate(out):
        if r.id in seen:
            issues.append(Issue(str(path), None, "id", f"duplicate id {r.id!r}"))
        seen[r.id] = k
    if issues:
        raise DataValidationError(issues)
    return out, dict(shapes)


def read_responses(path: str | Path) -> tuple[list[Response], dict[str, int]]:
    """(prompt, response) pairs from any supported shape as celm Responses, and the shapes found."""

    def convert(row, path, number):
        found = pair_of(row)
        if found is None:
            return None
        shape, prompt, response = found
        common = _common(row, path, number, shape)
        return shape, Response(item_id=common["id"], prompt=prompt, response=response,
                               model=str(row.get("model") or "unknown"), **common)

    return _read(path, (Response,), convert)  # type: ignore[return-value]


def read_prompts(path: str | Path) -> tuple[list[EvalItem | Instruction], dict[str, int]]:
    """Prompts from any supported shape: celm Instructions/EvalItems as they are, others as EvalItems."""

    def convert(row, path, number):
        found = prompt_of(row)
        if found is None:
            return None
        shape, prompt = found
        common = _common(row, path, number, shape)
        return shape, EvalItem(prompt=prompt, norms=list(row.get("norms") or []), messages=_history_to(row), **common)

    return _read(path, (EvalItem, Instruction), convert)  # type: ignore[return-value]
