"""Files in and out of the app: celm record files, Label Studio and Argilla JSON, red-team EvalItems."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.data.errors import Issue
from celm.server import audit, batches, exports, limits, workflow
from celm.server.errors import WorkflowError
from celm.server.models import Batch, Item, RedTeamAttempt, User
from celm.server.settings import ServerSettings
from celm.server.transaction import one_transaction

EXPORT_KINDS = ("sft", "pairs", "ratings", "final", "labels", "labelstudio", "argilla")


class BadImport(WorkflowError):
    """An upload that is not a file to import: every error as ``file:line: field: reason``, the file
    named as it was uploaded. Nothing of it was written."""

    def __init__(self, issues: list[Issue]):
        self.errors = [str(i) for i in issues]
        shown = "; ".join(self.errors[:20]) + (f"; ... and {len(self.errors) - 20} more" if len(self.errors) > 20 else "")
        super().__init__(f"{len(self.errors)} error(s), nothing imported: {shown}", 422)


def _shown_name(filename: str) -> str:
    """The uploaded file's own name (a browser may send a path), printable."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:200] or "upload"


def _jsonl_lines(path: Path, fmt: str) -> list[int]:
    """The line numbers of a JSONL file's non-blank lines: record k came from the k-th of them."""
    import gzip

    with (gzip.open if fmt == "jsonl.gz" else open)(path, "rb") as fh:
        return [n for n, raw in enumerate(fh, start=1) if raw.strip()]


def _celm_rows(name: str, data: bytes) -> tuple[list[dict], list[tuple[str, int]]]:
    """The items of a celm file and where each came from (file, line; the row's position for formats
    without lines), or BadImport naming the uploaded file."""
    from celm.data.errors import DataValidationError
    from celm.data.io import file_format, read_records

    try:
        fmt = file_format(name)
    except ValueError as exc:
        raise BadImport([Issue(name, None, None, str(exc).removeprefix(f"{name}: "))]) from None
    if fmt == "hf":
        raise BadImport([Issue(name, None, None, "unknown format (use .jsonl, .jsonl.gz, .json, .parquet or .csv)")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload.{fmt}"
        path.write_bytes(data)
        try:
            records = read_records(path)
            lines = _jsonl_lines(path, fmt) if fmt in ("jsonl", "jsonl.gz") else list(range(1, len(records) + 1))
        except DataValidationError as exc:
            # some readers' reasons quote the path too (pyarrow's): the temporary one is no one's business
            raise BadImport([Issue(name, i.line, i.field, i.reason.replace(str(path), name)) for i in exc.issues]) from None
    rows, where, issues = [], [], []
    for record, line in zip(records, lines):
        try:
            made = batches.rows_from_record(record)
        except WorkflowError as exc:
            issues.append(Issue(name, line, None, str(exc)))
            continue
        rows.extend(made)
        where.extend([(name, line)] * len(made))
    if issues:
        raise BadImport(issues)
    return rows, where


def _tool_rows(name: str, data: bytes, fmt: str, task: str):
    """Items and annotations of a Label Studio / Argilla export, or BadImport with each bad task's position."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadImport([Issue(name, data[: exc.start].count(b"\n") + 1, None, f"bad UTF-8 at byte {exc.start}")]) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadImport([Issue(name, exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})")]) from None
    what = "tasks" if fmt == "labelstudio" else "records"
    if not isinstance(payload, list):
        raise BadImport([Issue(name, 1, None, f"expected a JSON list of {what}, found a {type(payload).__name__}")])
    rows, anns, bad = (exports.rows_from_label_studio if fmt == "labelstudio" else exports.rows_from_argilla)(payload)
    issues = [Issue(name, k, None, why) for k, why in bad]
    position = {r["external_id"]: r["position"] for r in rows}
    first: dict[str, int] = {}
    for r in rows:
        if first.setdefault(r["external_id"], r["position"]) != r["position"]:
            issues.append(Issue(name, r["position"], "id", f"duplicate id {r['external_id']!r} (first at {first[r['external_id']]})"))
    allowed = [str(k) for k in range(7)] if task == "rating" else list(workflow.LABEL_VALUES)
    for ext, _who, value in anns:
        if value not in allowed:
            issues.append(Issue(name, position[ext], "rating", f"{value[:40]!r} is not one of {', '.join(allowed)}"))
    if issues:
        raise BadImport(sorted(issues, key=lambda i: i.line or 0))
    return rows, [(name, r["position"]) for r in rows], anns


def import_upload(s: Session, filename: str, data: bytes, *, name: str, task: str = "rating", fmt: str = "celm",
                  new_round_of: int | None = None, settings: ServerSettings | None = None, by: User | None = None,
                  address: str | None = None) -> batches.ImportResult:
    """A batch from an uploaded file (re-imported items skipped: see batches.import_batch); for Label
    Studio / Argilla files their annotations come along as ratings by users of the same name (others,
    and those on skipped items, are skipped and counted).

    All or nothing: a bad file is refused whole (:class:`BadImport`, each error with the uploaded
    file's name and line), and the batch, its items and their ratings are written in one transaction."""
    settings = settings or ServerSettings()
    shown = _shown_name(filename)
    if fmt not in ("celm", "labelstudio", "argilla"):
        raise WorkflowError(f"unknown format {fmt!r}: celm, labelstudio or argilla", 422)
    if fmt == "celm":
        rows, where = _celm_rows(shown, data)
        anns = []
    else:
        rows, where, anns = _tool_rows(shown, data, fmt, task)
    issues = limits.field_issues(rows, lambda k: where[k], settings)
    if issues:
        raise BadImport(issues)
    with one_transaction(s) as tx:
        result = batches.import_batch(tx, name, rows=rows, task=task, source=shown, new_round_of=new_round_of, by=by,
                                      address=address)
        if fmt != "celm":
            result.skipped_annotations = _import_annotations(tx, result.batch, anns, settings, by, address)
        batch_id = result.batch.id if result.batch else None  # read while its session is open (a rollback expires it)
    # the caller's session holds the batch from here on: the transaction's is closed
    result.batch = s.get(Batch, batch_id) if batch_id is not None else None
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
        score = int(value) if batch.task == "rating" else None  # checked by _tool_rows: a rank 0-6 or a label
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
