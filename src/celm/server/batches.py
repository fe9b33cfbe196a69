"""Batches: importing (instruction, response) items, idempotently, and the batch overviews.

A re-imported row is skipped, so the same response is never rated or exported twice; a new round of
an earlier batch rates items again on purpose (see :func:`import_batch`). The import is audited in
the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError
from celm.server.models import Batch, Item, ReviewBlock, User
from celm.server.workflow import LABEL_VALUES


def _rows_from_records(records) -> list[dict]:
    return [row for r in records for row in rows_from_record(r)]


def rows_from_record(r) -> list[dict]:
    """The items a celm record brings: one, or two for a preference pair (its chosen and rejected)."""
    from celm.data.records import JudgeExample, JudgementRecord, PreferencePair, Response, SFTExample

    base = {"scenario": r.scenario, "norms": list(r.norms)}
    if isinstance(r, (Response, JudgementRecord)):
        return [{"external_id": r.id, "instruction": r.prompt, "response": r.response, "model": r.model, **base}]
    if isinstance(r, SFTExample):
        return [{"external_id": r.id, "instruction": r.instruction, "response": r.output, **base}]
    if isinstance(r, PreferencePair):
        return [{"external_id": f"{r.id}-chosen", "instruction": r.instruction, "response": r.chosen, **base},
                {"external_id": f"{r.id}-rejected", "instruction": r.instruction, "response": r.rejected, **base}]
    if isinstance(r, JudgeExample):
        return [{"external_id": r.id, "instruction": r.instruction, "response": r.response, **base}]
    raise WorkflowError(f"{r.id}: a {type(r).__name__} has no response to rate")


@dataclass
class ImportResult:
    batch: Batch | None  # None when every row was already present
    items: int  # imported
    skipped: int  # already present (see import_batch), not imported again
    skipped_annotations: int = 0  # Label Studio / Argilla annotations not taken over (io.import_upload)


def _key(external_id, instruction, response) -> tuple[str, str, str]:
    return str(external_id), instruction, response


def _already_present(s: Session, rows: Sequence[dict], new_round_of: int | None) -> set[tuple[str, str, str]]:
    """Keys of the rows that are already items: in any batch for a plain import; in another new round
    of the same batch for a new round. Looked up by external id (indexed), compared on the texts."""
    ids = sorted({str(r["external_id"]) for r in rows})
    found: set[tuple[str, str, str]] = set()
    for k in range(0, len(ids), 500):  # bound parameters per statement stay well under every database's limit
        q = select(Item.external_id, Item.instruction, Item.response).where(Item.external_id.in_(ids[k:k + 500]))
        if new_round_of is not None:
            q = q.join(Batch, Batch.id == Item.batch_id).where(Batch.round_of == new_round_of)
        found.update(_key(*row) for row in s.execute(q))
    return found


def _serialize_imports(s: Session) -> None:
    """Imports run one at a time, so two uploads of one file at once (a double click) cannot both
    pass the re-import check. PostgreSQL: a table lock that only imports take (reads and ratings go
    on). SQLite has one writer at a time anyway: the caller writes the new batch row before it
    checks, so the check already runs under the write lock."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE batches IN SHARE ROW EXCLUSIVE MODE"))


def import_batch(s: Session, name: str, records=None, *, rows: Sequence[dict] | None = None, task: str = "rating",
                 source: str = "", new_round_of: int | None = None, by: User | None = None,
                 address: str | None = None) -> ImportResult:
    """A batch of (instruction, response) items from celm records (Response, SFTExample,
    PreferencePair, JudgeExample, JudgementRecord) or plain rows.

    Re-importing is idempotent: a row whose (external id, instruction, response) is already an item
    of any batch is skipped and counted, so the same response is never rated or exported twice. To
    rate items again on purpose, import them as ``new_round_of`` an earlier batch: the new batch
    names it, and rows are then skipped only when already in another new round of that batch."""
    if task not in ("rating", "label"):
        raise WorkflowError(f"task must be rating (0-6) or label ({'/'.join(LABEL_VALUES)})")
    rows = list(rows or []) + (_rows_from_records(records) if records else [])
    if not rows:
        raise WorkflowError("nothing to import")
    seen = set()
    for row in rows:
        if row["external_id"] in seen:
            raise WorkflowError(f"duplicate item id {row['external_id']!r}")
        seen.add(row["external_id"])
    if new_round_of is not None and s.get(Batch, new_round_of) is None:
        raise WorkflowError(f"no batch #{new_round_of} to start a new round of", 422)
    _serialize_imports(s)
    batch = Batch(name=name or "batch", task=task, source=source, round_of=new_round_of)
    s.add(batch)
    s.flush()
    present = _already_present(s, rows, new_round_of)
    fresh = [r for r in rows if _key(r["external_id"], r["instruction"], r["response"]) not in present]
    if not fresh:
        s.rollback()  # nothing new: no empty batch
        batch = None
    for row in fresh:
        s.add(Item(batch_id=batch.id, external_id=row["external_id"], instruction=row["instruction"],
                   response=row["response"], model=row.get("model") or "", scenario=row.get("scenario"),
                   norms=row.get("norms") or []))
    result = ImportResult(batch, len(fresh), len(rows) - len(fresh))
    audit.record(s, "import", user=by, address=address, batch_id=batch.id if batch else None, name=name, task=task,
                 source=source, items=result.items, skipped=result.skipped, new_round_of=new_round_of)
    s.commit()
    return result


def batches(s: Session, *, newest_first: bool = False) -> list[Batch]:
    return list(s.scalars(select(Batch).order_by(Batch.id.desc() if newest_first else Batch.id)))


def batch_summaries(s: Session) -> list[dict]:
    """Every batch (oldest first) with its items counted by status, its review blocks counted by
    status (``review``), its finished items not yet in a block (``unreviewed``) and ``accepted``: it
    has items, all done, all in accepted blocks. Three queries, however many batches."""
    counts: dict[int, dict[str, int]] = {}
    unreviewed: dict[int, int] = {}
    in_accepted: dict[int, int] = {}
    rows = s.execute(select(Item.batch_id, Item.status, ReviewBlock.status, func.count())
                     .outerjoin(ReviewBlock, ReviewBlock.id == Item.block_id)
                     .group_by(Item.batch_id, Item.status, ReviewBlock.status))
    for batch_id, status, block_status, n in rows:
        by_status = counts.setdefault(batch_id, {})
        by_status[status] = by_status.get(status, 0) + n
        if status == "done" and block_status is None:
            unreviewed[batch_id] = unreviewed.get(batch_id, 0) + n
        elif block_status == "accepted":
            in_accepted[batch_id] = in_accepted.get(batch_id, 0) + n
    blocks: dict[int, dict[str, int]] = {}
    for batch_id, status, n in s.execute(select(ReviewBlock.batch_id, ReviewBlock.status, func.count())
                                         .group_by(ReviewBlock.batch_id, ReviewBlock.status)):
        blocks.setdefault(batch_id, dict.fromkeys(("pending", "accepted", "rejected"), 0))[status] = n
    out = []
    for b in batches(s):
        by_status = counts.get(b.id, {})
        n = sum(by_status.values())
        out.append({"id": b.id, "name": b.name, "task": b.task, "source": b.source, "round_of": b.round_of,
                    "items": n, "status": by_status,
                    "review": blocks.get(b.id, dict.fromkeys(("pending", "accepted", "rejected"), 0)),
                    "unreviewed": unreviewed.get(b.id, 0),
                    "accepted": n > 0 and by_status.get("done", 0) == n and in_accepted.get(b.id, 0) == n})
    return out
