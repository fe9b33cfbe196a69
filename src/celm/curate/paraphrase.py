"""Stage 4: paraphrase expansion. A model writes N paraphrases of each seed question; they stay
``pending`` until two different reviewers approve them (from the annotation app or a file).

Approvals file (JSONL), one decision per line::

    {"id": "seed-1-para-2", "reviewer": "wang", "decision": "approve"}
    {"id": "seed-1-para-2", "reviewer": "li", "decision": "reject", "comment": "changes the meaning"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from celm.curate.fields import instruction_text
from celm.curate.report import StageReport
from celm.data.records import Instruction, Record

PROMPT = ("请把下面这个问题改写成{n}种不同的说法。要求：意思完全不变，语气和用词尽量多样，像真实用户会问的那样。"
          "每行写一个改写，用“1.”“2.”这样的编号开头，不要写别的内容。\n\n问题：{q}")
REQUIRED_APPROVALS = 2
_NUMBERED = re.compile(r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.、．:：)）]\s*(.+?)\s*$")


def parse_paraphrases(text: str, original: str, n: int) -> list[str]:
    """Numbered lines of a model's answer; drops copies of the original and of each other."""
    seen = {original.strip()}
    out = []
    for line in text.splitlines():
        m = _NUMBERED.match(line)
        cand = (m.group(1) if m else "").strip().strip("\"“”")
        if len(cand) >= 4 and cand not in seen:
            seen.add(cand)
            out.append(cand)
    return out[:n]


def paraphrase(records: Sequence[Record], model, *, n: int = 3, max_new_tokens: int = 256, cache=None,
               progress: bool = True) -> tuple[list[Record], StageReport]:
    """The seeds plus their paraphrases as pending :class:`Instruction` records."""
    from celm.models import GenerationParams
    from celm.models.runner import generate_responses

    report = StageReport(stage="paraphrase", input=len(records), details={"n": n, "model": model.model_id})
    asks = [Instruction(id=r.id, text=PROMPT.format(n=n, q=instruction_text(r)), scenario=r.scenario, norms=r.norms,
                        provenance=r.provenance) for r in records]
    outcome = generate_responses(asks, model, params=GenerationParams(max_new_tokens=max_new_tokens, temperature=0.7, seed=0),
                                 cache=cache, progress=progress, description="paraphrases")
    by_id = {resp.item_id: resp for resp in outcome.responses}
    added: list[Record] = []
    for r in records:
        resp = by_id.get(r.id)
        found = parse_paraphrases(resp.response, instruction_text(r), n) if resp and not resp.error else []
        if not found:
            report.note("no_paraphrase_parsed", r)
        for k, text in enumerate(found, start=1):
            prov = r.provenance.model_copy(update={"method": "paraphrase", "details": {**r.provenance.details,
                                                                                         "paraphrase_of": r.id, "model": model.model_id}})
            added.append(Instruction(id=f"{r.id}-para-{k}", text=text, scenario=r.scenario, norms=r.norms,
                                     provenance=prov, status="pending"))
    report.added = len(added)
    out = list(records) + added
    return out, report.finish(len(out))


def read_decisions(path: str | Path) -> list[dict]:
    """Review decisions from a JSONL file; a bad line is reported as ``file:line: reason``."""
    from celm.data.errors import DataValidationError, Issue

    rows, issues = [], []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(Issue(str(path), number, "", f"not JSON: {exc.msg}"))
            continue
        for key in ("id", "reviewer", "decision"):
            if not row.get(key):
                issues.append(Issue(str(path), number, key, "missing"))
        if row.get("decision") not in (None, "approve", "reject"):
            issues.append(Issue(str(path), number, "decision", "must be approve or reject"))
        rows.append(row)
    if issues:
        raise DataValidationError(issues)
    return rows


def apply_approvals(records: Sequence[Record], decisions: Sequence[dict], *, required: int = REQUIRED_APPROVALS,
                    drop_unapproved: bool = False) -> tuple[list[Record], StageReport]:
    """Two distinct approvals make a pending paraphrase ``approved``; any rejection makes it ``rejected``."""
    report = StageReport(stage="approve", input=len(records), details={"required_approvals": required})
    approvals: dict[str, set[str]] = {}
    rejections: dict[str, set[str]] = {}
    for d in decisions:
        (approvals if d["decision"] == "approve" else rejections).setdefault(d["id"], set()).add(d["reviewer"])
    out: list[Record] = []
    for r in records:
        if isinstance(r, Instruction) and r.status == "pending":
            ok = sorted(approvals.get(r.id, set()))
            if rejections.get(r.id):
                r = r.model_copy(update={"status": "rejected", "approvals": ok})
            elif len(ok) >= required:
                r = r.model_copy(update={"status": "approved", "approvals": ok})
            else:
                r = r.model_copy(update={"approvals": ok})
            report.changed += r.status != "pending"
        if drop_unapproved and isinstance(r, Instruction) and r.status != "approved":
            report.dropped += 1
            report.note(r.status, r)
            continue
        out.append(r)
    report.details["status"] = {s: sum(1 for r in out if isinstance(r, Instruction) and r.status == s)
                                for s in ("approved", "pending", "rejected")}
    return out, report.finish(len(out))
