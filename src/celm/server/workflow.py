"""The paper's rating process as functions on a database session (section 3.2, appendix A.1-A.2).

Two annotators rate each item blind; a disagreement goes to a senior whose score is final; a
finished item goes on to acceptance review (:mod:`celm.server.review`). The web app calls these
functions; scripts can too. Each function that changes something records it in the audit trail in
the same transaction (``address``: the client's, passed in by the web app; empty for scripts).

The rest of the process has modules of its own: accounts (:mod:`~celm.server.users`), the
competence test (:mod:`~celm.server.competence`), importing batches (:mod:`~celm.server.batches`),
acceptance review (:mod:`~celm.server.review`) and red teaming (:mod:`~celm.server.redteam`); the
refusal they all raise is :class:`celm.server.errors.WorkflowError`.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from celm.data.records import SAFETY_LABELS
from celm.server import audit
from celm.server.competence import TASKS, is_qualified
from celm.server.errors import WorkflowError, require
from celm.labels import AGREE_TOLERANCE, final_rank, ranks_agree
from celm.server.models import Assignment, Batch, Item, RatingRow, User, now
from celm.server.review import open_review_blocks
from celm.server.settings import ServerSettings

LABEL_VALUES = SAFETY_LABELS


def claim_slot(s: Session, item_id: int, user: User) -> Item | None:
    """Give ``user`` one of an open item's two annotator slots this round; None when both are taken,
    the item is not open, or the user holds one already. The only way a slot is taken (next_item and
    imported annotations both come here): the UPDATE succeeds only while fewer than two hold the item,
    so two callers at once can never both get the second slot, and the unique (item, round, slot)
    and (item, user, round) constraints back it up."""
    claimed = s.execute(update(Item).where(Item.id == item_id, Item.status == "open", Item.assigned < 2)
                        .values(assigned=Item.assigned + 1)).rowcount
    if not claimed:
        s.rollback()
        return None
    item = s.get(Item, item_id)
    s.refresh(item)
    try:
        s.add(Assignment(item_id=item.id, user_id=user.id, round=item.round, slot=item.assigned, claimed_at=now()))
        s.commit()
        return item
    except IntegrityError:  # the user already holds it: the rollback gives the slot back too
        s.rollback()
        return None


def _rated_by(user: User):
    # NOT EXISTS on (item, user, ...) hits the unique indexes: constant work per row, however many ratings there are
    return select(RatingRow.id).where(RatingRow.item_id == Item.id, RatingRow.user_id == user.id,
                                      RatingRow.role == "annotator", RatingRow.round == Item.round).exists()


def _task_ok(user: User):
    """Only batches of a task the annotator passed the test for (the rating test, the label test)."""
    require(user, "annotator")
    tasks = [task for task in TASKS if is_qualified(user, task)]
    if not tasks:
        raise WorkflowError("pass the competence test first", 403)
    return Item.batch_id.in_(select(Batch.id).where(Batch.task.in_(tasks))) if len(tasks) == 1 else True


def held_item(s: Session, user: User, exclude: int | None = None) -> Item | None:
    """The item the annotator holds and has not rated yet, if any. Reads only: what a GET shows."""
    q = (select(Item).join(Assignment, (Assignment.item_id == Item.id) & (Assignment.round == Item.round))
         .where(Assignment.user_id == user.id, Item.status == "open", ~_rated_by(user), _task_ok(user)))
    if exclude is not None:
        q = q.where(Item.id != exclude)
    return s.scalar(q.order_by(Item.id).limit(1))


def _candidates(s: Session, user: User, exclude: int | None = None, limit: int = 32) -> list[int]:
    held = select(Assignment.id).where(Assignment.item_id == Item.id, Assignment.user_id == user.id,
                                       Assignment.round == Item.round).exists()
    q = select(Item.id).where(Item.status == "open", Item.assigned < 2, ~held, _task_ok(user))
    if exclude is not None:
        q = q.where(Item.id != exclude)
    return list(s.scalars(q.order_by(Item.assigned.desc(), Item.id).limit(limit)))


def work_waiting(s: Session, user: User) -> bool:
    """Whether the annotator holds an item or could claim one (reads only)."""
    return held_item(s, user) is not None or bool(_candidates(s, user, limit=1))


def _unclaim(s: Session, a: Assignment) -> None:
    """Give an unrated claim back: the item's count drops, and a remaining holder of slot 2 moves to
    slot 1, so the next claim (which takes slot ``assigned + 1``) finds its slot free."""
    item_id, rnd = a.item_id, a.round
    s.delete(a)
    s.flush()  # its slot is free before the other holder moves into it (unique item, round, slot)
    s.execute(update(Item).where(Item.id == item_id, Item.assigned > 0).values(assigned=Item.assigned - 1))
    s.execute(update(Assignment).where(Assignment.item_id == item_id, Assignment.round == rnd, Assignment.slot == 2)
              .values(slot=1))


def _unrated_claims(user_id=None):
    rated = select(RatingRow.id).where(RatingRow.item_id == Assignment.item_id, RatingRow.user_id == Assignment.user_id,
                                       RatingRow.role == "annotator", RatingRow.round == Assignment.round).exists()
    q = select(Assignment).join(Item, (Item.id == Assignment.item_id) & (Item.round == Assignment.round)).where(
        Item.status == "open", ~rated)
    return q if user_id is None else q.where(Assignment.user_id == user_id)


#: when each database (by URL) was last swept for stale claims, in this process (time.monotonic)
_last_sweep: dict[str, float] = {}


def release_stale_claims(s: Session, settings: ServerSettings | None = None) -> int:
    """Claims never rated within ``claim_ttl_s`` go back to the queue, so an annotator who walks away
    does not hold items for ever; audited as one ``claims_expired`` entry.

    Swept at most once per ``min(60 s, ttl / 2)`` per process: a claim then lives at most 1.5 ttl,
    and the claim path (50 annotators at once) does not pay a scan of every assignment each time.
    Another process sweeping the same claims at once wins; this one gives up quietly."""
    ttl = (settings or ServerSettings()).claim_ttl_s
    key, clock = str(s.get_bind().url), time.monotonic()
    if clock - _last_sweep.get(key, float("-inf")) < min(60.0, ttl / 2):
        return 0
    _last_sweep[key] = clock
    stale = list(s.scalars(_unrated_claims().where(Assignment.claimed_at < now() - timedelta(seconds=ttl))
                           .order_by(Assignment.id).limit(500)))
    if not stale:
        return 0
    try:
        for a in stale:
            _unclaim(s, a)
        audit.record(s, "claims_expired", items=sorted({a.item_id for a in stale}), claims=len(stale), ttl_s=ttl)
        s.commit()
    except (StaleDataError, OperationalError):  # released by another process meanwhile (or its write lock held)
        s.rollback()
        return 0
    return len(stale)


def release_claims_of(s: Session, user: User) -> list[int]:
    """Give back every unrated claim of ``user`` (a disabled account's items go to others at once);
    no commit: the caller's change commits with it. The items' ids."""
    claims = list(s.scalars(_unrated_claims(user.id).order_by(Assignment.id)))
    for a in claims:
        _unclaim(s, a)
    return [a.item_id for a in claims]


def skip_item(s: Session, user: User, item_id: int, *, address: str | None = None) -> None:
    """The annotator gives back an item they hold and have not rated (another annotator takes it)."""
    require(user, "annotator")
    claim = s.scalar(_unrated_claims(user.id).where(Assignment.item_id == item_id))
    if claim is None:
        raise WorkflowError("你没有领取这一条，或已评过 (you hold no unrated claim on this item)", 404)
    _unclaim(s, claim)
    audit.record(s, "skip", user=user, address=address, item_id=item_id)
    s.commit()


def next_item(s: Session, user: User, settings: ServerSettings | None = None, exclude: int | None = None) -> Item | None:
    """The annotator's next item: one assigned and not yet rated, else a new assignment on an item
    that still needs a second (or first) annotator. Never an item the annotator already rated, nor
    ``exclude`` (the one just skipped). This claims: call it for a POST only, never for a page view."""
    release_stale_claims(s, settings)
    mine = held_item(s, user, exclude)
    if mine:
        return mine
    rng = random.Random()
    for _ in range(10):
        # the first open items (half-taken ones first, to finish items), tried in a random order so that
        # fifty annotators asking at once do not all fight over the same row
        candidates = _candidates(s, user, exclude)
        if not candidates:
            return None
        rng.shuffle(candidates)
        for candidate in candidates:
            item = claim_slot(s, candidate, user)
            if item is not None:
                return item
    return None


def progress(s: Session, user: User, batch_id: int) -> dict:
    """A batch's progress for the annotate page: the team's items done and left, the annotator's ratings in it."""
    done = s.scalar(select(func.count()).select_from(Item).where(Item.batch_id == batch_id, Item.status == "done")) or 0
    total = s.scalar(select(func.count()).select_from(Item).where(Item.batch_id == batch_id)) or 0
    mine = s.scalar(select(func.count()).select_from(RatingRow).join(Item, Item.id == RatingRow.item_id).where(
        Item.batch_id == batch_id, RatingRow.user_id == user.id, RatingRow.role == "annotator", RatingRow.round == Item.round)) or 0
    return {"team_done": done, "team_left": total - done, "mine": mine, "total": total}


def _check_value(batch: Batch, score, label) -> tuple[int | None, str | None]:
    if batch.task == "rating":
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 6:  # JSON true is no rank
            raise WorkflowError("score must be an integer 0-6", 422)
        return score, None
    if label not in LABEL_VALUES:
        raise WorkflowError(f"label must be one of {', '.join(LABEL_VALUES)}", 422)
    return None, label


def submit_rating(s: Session, user: User, item_id: int, *, score: int | None = None, label: str | None = None,
                  safety_flag: bool = False, comment: str = "", settings: ServerSettings | None = None,
                  address: str | None = None, imported_by: User | None = None) -> RatingRow:
    """Record an annotator's rating. Submitting the same item twice returns the first rating.
    ``imported_by``: the admin whose Label Studio / Argilla file brought the rating in."""
    require(user, "annotator")
    item = s.get(Item, item_id)
    if item is None:
        raise WorkflowError("no such item", 404)
    assigned = s.scalar(select(Assignment).where(Assignment.item_id == item.id, Assignment.user_id == user.id,
                                                 Assignment.round == item.round))
    if assigned is None:
        raise WorkflowError("this item is not assigned to you", 403)
    existing = s.scalar(select(RatingRow).where(RatingRow.item_id == item.id, RatingRow.user_id == user.id,
                                             RatingRow.role == "annotator", RatingRow.round == item.round))
    if existing:
        return existing
    value, lab = _check_value(item.batch, score, label)
    rating = RatingRow(item_id=item.id, user_id=user.id, role="annotator", round=item.round, score=value, label=lab,
                    safety_flag=bool(safety_flag), comment=(comment or "")[:5000])
    s.add(rating)
    try:
        s.flush()  # a racing duplicate fails here, before it is audited
        extra = {"imported_by": imported_by.username} if imported_by is not None else {}
        audit.record(s, "rating", user=user, address=address, item_id=item.id, rating_id=rating.id, round=item.round,
                     score=value, label=lab, safety_flag=bool(safety_flag), **extra)
        s.commit()
    except IntegrityError:  # the same submission raced itself: keep the first
        s.rollback()
        return s.scalar(select(RatingRow).where(RatingRow.item_id == item.id, RatingRow.user_id == user.id,
                                             RatingRow.role == "annotator", RatingRow.round == item.round))
    settle(s, item.id, settings)
    return rating


def agree(task: str, a: RatingRow, b: RatingRow, tolerance: int = AGREE_TOLERANCE) -> bool:
    """Labels agree when equal; 0-6 scores as celm.labels.ranks_agree says (close, same side of safe/unsafe)."""
    if task == "label":
        return a.label == b.label
    return ranks_agree(a.score, b.score, tolerance)


def settle(s: Session, item_id: int, settings: ServerSettings | None = None) -> None:
    """Once both annotators have rated: finish the item if they agree, else send it to the senior.

    Runs after each rating's commit, so whichever of two simultaneous ratings commits last sees both."""
    item = s.get(Item, item_id)
    s.refresh(item)
    if item.status != "open":
        return
    ratings = s.scalars(select(RatingRow).where(RatingRow.item_id == item.id, RatingRow.role == "annotator",
                                             RatingRow.round == item.round).order_by(RatingRow.id)).all()
    if len(ratings) < 2:
        return
    a, b = ratings[:2]
    if agree(item.batch.task, a, b):
        # celm.labels.final_rank: the more critical of two agreeing scores is kept
        _finish(s, item, score=final_rank([a.score, b.score]) if a.score is not None else None, label=a.label,
                settings=settings)
    else:
        item.status = "disagreement"
        s.commit()


def _finish(s: Session, item: Item, *, score, label, settings: ServerSettings | None) -> None:
    item.final_score, item.final_label, item.status, item.finished_at = score, label, "done", now()
    s.commit()
    open_review_blocks(s, item.batch_id, settings or ServerSettings())


def adjudication_queue(s: Session, user: User) -> list[Item]:
    require(user, "senior")
    return list(s.scalars(select(Item).where(Item.status == "disagreement").order_by(Item.id)))


def item_ratings(s: Session, item: Item) -> list[RatingRow]:
    return list(s.scalars(select(RatingRow).where(RatingRow.item_id == item.id, RatingRow.round == item.round)
                          .order_by(RatingRow.id)))


def adjudicate(s: Session, user: User, item_id: int, *, score: int | None = None, label: str | None = None,
               comment: str = "", settings: ServerSettings | None = None, address: str | None = None) -> Item:
    require(user, "senior")
    item = s.get(Item, item_id)
    if item is None or item.status != "disagreement":
        raise WorkflowError("this item is not awaiting adjudication", 409)
    value, lab = _check_value(item.batch, score, label)
    rating = RatingRow(item_id=item.id, user_id=user.id, role="senior", round=item.round, score=value, label=lab,
                    comment=(comment or "")[:5000])
    s.add(rating)
    s.flush()
    audit.record(s, "adjudication", user=user, address=address, item_id=item.id, rating_id=rating.id, round=item.round,
                 score=value, label=lab)
    _finish(s, item, score=value, label=lab, settings=settings)
    return item

