"""Files in and out of the app: celm record files, Label Studio and Argilla JSON, red-team EvalItems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.server import audit, batches, exports, workflow
from celm.server.errors import WorkflowError
from celm.server.models import Batch, Item, RedTeamAttempt, User
from celm.server.settings import ServerSettings

EXPORT_KINDS = ("sft", "pairs", "ratings", "final", "labels", "labelstudio", "argilla")


def _read_celm(filename: str, data: bytes):
    from celm.data.io import read_records

    suffix = "".join(Path(filename).suffixes[-2:]) or ".jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return read_records(path)


def import_upload(s: Session, filename: str, data: bytes, *, name: str, task: str = "rating", fmt: str = "celm",
                  new_round_of: int | None = None, settings: ServerSettings | None = None, by: User | None = None,
                  address: str | None = None) -> batches.ImportResult:
    """A batch from an uploaded file (re-imported items skipped: see batches.import_batch); for Label
    Studio / Argilla files their annotations come along as ratings by users of the same name (others,
    and those on skipped items, are skipped and counted)."""
    where = {"task": task, "source": filename, "new_round_of": new_round_of, "by": by, "address": address}
    if fmt == "celm":
        return batches.import_batch(s, name, _read_celm(filename, data), **where)
    payload = json.loads(data.decode("utf-8-sig"))
    if fmt == "labelstudio":
        rows, anns = exports.rows_from_label_studio(payload)
    elif fmt == "argilla":
        rows, anns = exports.rows_from_argilla(payload)
    else:
        raise WorkflowError(f"unknown format {fmt!r}: celm, labelstudio or argilla")
    result = batches.import_batch(s, name, rows=rows, **where)
    result.skipped_annotations = _import_annotations(s, result.batch, anns, settings or ServerSettings(), by, address)
    return result


def _import_annotations(s: Session, batch: Batch | None, anns, settings: ServerSettings, by: User | None,
                        address: str | None) -> int:
    users = {u.username: u for u in s.scalars(select(User).where(User.role == "annotator"))}
    items = {i.external_id: i for i in s.scalars(select(Item).where(Item.batch_id == batch.id))} if batch else {}
    skipped = 0
    for ext, who, value in anns:
        user, item = users.get(who), items.get(ext)
        # the same guarded claim as an annotator asking for work: never a third holder
        if user is None or item is None or workflow.claim_slot(s, item.id, user) is None:
            skipped += 1
            continue
        score = int(value) if batch.task == "rating" and str(value).isascii() and str(value).isdigit() else None
        workflow.submit_rating(s, user, item.id, score=score, label=None if score is not None else value, settings=settings,
                               address=address, imported_by=by)
    return skipped


def _audit_export(s: Session, by: User | None, address: str | None, **details) -> None:
    audit.record(s, "export", user=by, address=address, **details)
    s.commit()


def export_batch(s: Session, batch_id: int, kind: str, *, by: User | None = None,
                 address: str | None = None) -> tuple[bytes, str, str]:
    from celm.data.io import write_records

    batch = s.get(Batch, batch_id)
    if batch is None:
        raise WorkflowError("no such batch", 404)
    if kind in ("labelstudio", "argilla"):
        rows = exports.to_label_studio(s, batch_id) if kind == "labelstudio" else exports.to_argilla(s, batch_id)
        _audit_export(s, by, address, batch_id=batch_id, kind=kind, records=len(rows))
        return json.dumps(rows, ensure_ascii=False, indent=1).encode(), f"batch{batch_id}-{kind}.json", "application/json"
    makers = {"sft": exports.sft_examples, "pairs": exports.preference_pairs, "ratings": exports.rating_records,
              "final": exports.final_ratings, "labels": exports.human_labels}
    if kind not in makers:
        raise WorkflowError(f"unknown export {kind!r}: {', '.join(EXPORT_KINDS)}", 404)
    records = makers[kind](s, batch_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_records(Path(tmp) / "out.jsonl", records) if records else None
        body = path.read_bytes() if path else b""
    _audit_export(s, by, address, batch_id=batch_id, kind=kind, records=len(records))
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


def redteam_items_jsonl(s: Session, *, by: User | None = None, address: str | None = None) -> bytes:
    items = redteam_items(s)
    _audit_export(s, by, address, kind="redteam", records=len(items))
    return "".join(r.model_dump_json() + "\n" for r in items).encode()
