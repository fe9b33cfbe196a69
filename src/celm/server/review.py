"""Acceptance review: every ``block_size`` finished items of a batch become a block
whose random ``sample_size`` items the reviewer checks; below the acceptance bar the whole block is
returned for rating again. Decisions are audited in the same transaction."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError, require
from celm.server.models import Batch, Item, RatingRow, ReviewBlock, User, now
from celm.server.settings import ServerSettings


def review_blocks(s: Session) -> list[ReviewBlock]:
    """Every review block, newest first."""
    return list(s.scalars(select(ReviewBlock).order_by(ReviewBlock.id.desc())))


def get_block(s: Session, block_id: int) -> ReviewBlock:
    block = s.get(ReviewBlock, block_id)
    if block is None:
        raise WorkflowError("no such block", 404)
    return block


def review_queue(s: Session, user: User) -> list[tuple[ReviewBlock, list[Item]]]:
    """The blocks awaiting review (oldest first), each with its sampled items in the sample's order."""
    require(user, "reviewer")
    pending = list(s.scalars(select(ReviewBlock).where(ReviewBlock.status == "pending").order_by(ReviewBlock.id)))
    ids = sorted({i for b in pending for i in b.sample})
    items: dict[int, Item] = {}
    for k in range(0, len(ids), 500):  # bound parameters per statement stay well under every database's limit
        items.update((i.id, i) for i in s.scalars(select(Item).where(Item.id.in_(ids[k:k + 500]))))
    return [(b, [items[i] for i in b.sample if i in items]) for b in pending]


def block_items(s: Session, block: ReviewBlock) -> list[Item | None]:
    """The items of a block's sample, in the sample's order."""
    return [s.get(Item, i) for i in block.sample]


def open_review_blocks(s: Session, batch_id: int, settings: ServerSettings, *, flush_partial: bool = False) -> list[ReviewBlock]:
    """Every ``block_size`` finished items of a batch become a block whose random sample the reviewer checks."""
    made = []
    while True:
        pending = s.scalar(select(func.count()).select_from(Item).where(
            Item.batch_id == batch_id, Item.status == "done", Item.block_id.is_(None)))
        if not pending or (pending < settings.block_size and not flush_partial):
            return made  # counted, not loaded: this runs after every finished item
        waiting = s.scalars(select(Item).where(Item.batch_id == batch_id, Item.status == "done", Item.block_id.is_(None))
                            .order_by(Item.finished_at, Item.id).limit(settings.block_size)).all()
        if not waiting or (len(waiting) < settings.block_size and not flush_partial):
            return made
        block = ReviewBlock(batch_id=batch_id, size=len(waiting))
        s.add(block)
        s.flush()
        ids = [i.id for i in waiting]
        block.sample = sorted(random.Random(block.id).sample(ids, min(settings.sample_size, len(ids))))
        for i in waiting:
            i.block_id = block.id
        s.commit()
        made.append(block)


def close_batch(s: Session, admin: User, batch_id: int, settings: ServerSettings, *, address: str | None = None) -> list[ReviewBlock]:
    """Send a batch's finished items that are not yet in a block to review, however few."""
    require(admin, "admin")
    if s.get(Batch, batch_id) is None:
        raise WorkflowError("no such batch", 404)
    blocks = open_review_blocks(s, batch_id, settings, flush_partial=True)
    audit.record(s, "batch_close", user=admin, address=address, batch_id=batch_id, blocks=[b.id for b in blocks])
    s.commit()
    return blocks


def review_block(s: Session, user: User, block_id: int, verdicts: dict[int, bool], settings: ServerSettings, *,
                 address: str | None = None) -> ReviewBlock:
    """The reviewer's verdict on each sampled item; below the bar the whole block goes back."""
    require(user, "reviewer")
    block = s.get(ReviewBlock, block_id)
    if block is None or block.status != "pending":
        raise WorkflowError("this block is not awaiting review", 409)
    missing = [i for i in block.sample if i not in verdicts]
    if missing:
        raise WorkflowError(f"give a verdict on every sampled item ({len(missing)} missing)", 422)
    block.verdicts = {str(i): bool(verdicts[i]) for i in block.sample}
    block.accuracy = sum(block.verdicts.values()) / len(block.sample)
    block.reviewer_id, block.decided_at = user.id, now()
    if block.accuracy >= settings.acceptance_bar:
        block.status = "accepted"
    else:
        block.status = "rejected"
        # every rating of the returned items is superseded: the next round's ratings replace it
        for old in s.scalars(select(RatingRow).join(Item, Item.id == RatingRow.item_id)
                             .where(Item.block_id == block.id, RatingRow.round == Item.round).order_by(RatingRow.id)):
            audit.record(s, "rating_superseded", user=user, address=address, rating_id=old.id, item_id=old.item_id,
                         round=old.round, rater_id=old.user_id, role=old.role, block_id=block.id)
        for item in s.scalars(select(Item).where(Item.block_id == block.id)):
            item.round += 1  # old ratings stay, superseded; two annotators rate it afresh
            item.status, item.final_score, item.final_label, item.finished_at, item.block_id = "open", None, None, None, None
            item.assigned = 0
    audit.record(s, "review", user=user, address=address, block_id=block.id, batch_id=block.batch_id, status=block.status,
                 accuracy=block.accuracy, sampled=len(block.sample))
    s.commit()
    return block

