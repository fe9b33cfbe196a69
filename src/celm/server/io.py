"""Files in and out of the app: celm record files, Label Studio and Argilla JSON, red-team EvalItems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from celm.server import exports, workflow
from celm.server.models import Assignment, Batch, Item, RedTeamAttempt, User
from celm.server.settings import ServerSettings

EXPORT_KINDS = ("sft", "pairs", "ratings", "labels", "labelstudio", "argilla")


def _read_celm(filename: str, data: bytes):
    from celm.data.io import read_records

    suffix = "".join(Path(filename).suffixes[-2:]) or ".jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return read_records(path)


def import_upload(s: Session, filename: str, data: bytes, *, name: str, task: str = "rating", fmt: str = "celm",
                  settings: ServerSettings | None = None) -> tuple[Batch, int]:
    """A batch from an uploaded file; for Label Studio / Argilla files their annotations come along
    as ratings by users of the same name (others are skipped and counted)."""
    if fmt == "celm":
        return workflow.import_batch(s, name, _read_celm(filename, data), task=task, source=filename), 0
    payload = json.loads(data.decode("utf-8-sig"))
    if fmt == "labelstudio":
        rows, anns = exports.rows_from_label_studio(payload)
    elif fmt == "argilla":
        rows, anns = exports.rows_from_argilla(payload)
    else:
        raise workflow.WorkflowError(f"unknown format {fmt!r}: celm, labelstudio or argilla")
    batch = workflow.import_batch(s, name, rows=rows, task=task, source=filename)
    return batch, _import_annotations(s, batch, anns, settings or ServerSettings())


def _import_annotations(s: Session, batch: Batch, anns, settings: ServerSettings) -> int:
    users = {u.username: u for u in s.scalars(select(User).where(User.role == "annotator"))}
    items = {i.external_id: i for i in s.scalars(select(Item).where(Item.batch_id == batch.id))}
    skipped = 0
    for ext, who, value in anns:
        user, item = users.get(who), items.get(ext)
        if user is None or item is None or item.assigned >= 2:
            skipped += 1
            continue
        try:
            item.assigned += 1
            s.add(Assignment(item_id=item.id, user_id=user.id, round=item.round, slot=item.assigned))
            s.commit()
        except IntegrityError:
            s.rollback()
            skipped += 1
            continue
        score = int(value) if batch.task == "rating" and str(value).isdigit() else None
        workflow.submit_rating(s, user, item.id, score=score, label=None if score is not None else value, settings=settings)
    return skipped


def export_batch(s: Session, batch_id: int, kind: str) -> tuple[bytes, str, str]:
    from celm.data.io import write_records

    batch = s.get(Batch, batch_id)
    if batch is None:
        raise workflow.WorkflowError("no such batch", 404)
    if kind in ("labelstudio", "argilla"):
        rows = exports.to_label_studio(s, batch_id) if kind == "labelstudio" else exports.to_argilla(s, batch_id)
        return json.dumps(rows, ensure_ascii=False, indent=1).encode(), f"batch{batch_id}-{kind}.json", "application/json"
    makers = {"sft": exports.sft_examples, "pairs": exports.preference_pairs, "ratings": exports.rating_records,
              "labels": exports.human_labels}
    if kind not in makers:
        raise workflow.WorkflowError(f"unknown export {kind!r}: {', '.join(EXPORT_KINDS)}", 404)
    records = makers[kind](s, batch_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_records(Path(tmp) / "out.jsonl", records) if records else None
        body = path.read_bytes() if path else b""
    return body, f"batch{batch_id}-{kind}.jsonl", "application/x-ndjson"


def redteam_items(s: Session):
    """Successful attacks as EvalItems for the next round (notes and attacker in provenance)."""
    from celm.data.records import EvalItem, Provenance
    from celm.taxonomy import get_taxonomy

    tax = get_taxonomy()
    names = {u.id: u.username for u in s.scalars(select(User))}
    return [EvalItem(id=f"redteam-{a.id}", prompt=a.prompt, scenario=a.scenario, norms=list(tax.norms_for(a.scenario)),
                     tactic="human_redteam",
                     provenance=Provenance(source="celm-redteam", source_id=str(a.id), method="human_redteam",
                                           details={"attacker": names.get(a.user_id), "notes": a.notes, "model": a.model,
                                                    "judge_label": a.judge_label}))
            for a in s.scalars(select(RedTeamAttempt).where(RedTeamAttempt.unsafe.is_(True)).order_by(RedTeamAttempt.id))]


def redteam_items_jsonl(s: Session) -> bytes:
    return "".join(r.model_dump_json() + "\n" for r in redteam_items(s)).encode()
