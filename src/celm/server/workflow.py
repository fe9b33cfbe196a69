"""The paper's human process as functions on a database session (section 3.2, appendix A.1-A.2).

Two annotators rate each item blind; a disagreement goes to a senior whose score is final; every
``block_size`` finished items the reviewer checks a random ``sample_size`` of them and below the
acceptance bar the whole block is returned for rating again. The web app calls these functions;
scripts can too. Each function that changes something records it in the audit trail in the same
transaction (``address``: the client's, passed in by the web app; empty for scripts).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from celm.data.records import SAFETY_LABELS
from celm.server import audit
from celm.server.guideline import SAFE_MAX_RANK
from celm.server.models import (
    ROLES, Assignment, Batch, Item, Rating, RedTeamAttempt, ReviewBlock, TestAttempt, TestQuestion, User, WebSession, now,
)
from celm.server.settings import ServerSettings

LABEL_VALUES = SAFETY_LABELS


class WorkflowError(Exception):
    """A request the workflow refuses (wrong state, not assigned, bad value); ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- users and the competence test --------------------------------------------------------------
def user_by_name(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username))


def users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.id)))


def usernames(s: Session) -> dict[int, str]:
    """User id -> user name, for every user."""
    return {u.id: u.username for u in s.scalars(select(User))}


def end_session(s: Session, ws: WebSession) -> None:
    """Log out: the server-side session is gone, so its cookie no longer works."""
    s.delete(ws)
    s.commit()


def test_questions(s: Session) -> list[TestQuestion]:
    return list(s.scalars(select(TestQuestion).order_by(TestQuestion.id)))


def create_user(s: Session, username: str, password: str, role: str, *, by: User | None = None,
                address: str | None = None) -> User:
    """``by``: the admin creating the account (None from the command line)."""
    from celm.server.security import hash_password

    username = username.strip()
    if role not in ROLES:
        raise WorkflowError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise WorkflowError("user name must be 1-64 characters")
    if len(password) < 8:
        raise WorkflowError("password must be at least 8 characters")
    if s.scalar(select(User).where(User.username == username)):
        raise WorkflowError(f"user {username!r} exists", 409)
    # seniors and reviewers are experienced annotators; only new annotators take the test
    user = User(username=username, password_hash=hash_password(password), role=role, qualified=role != "annotator")
    s.add(user)
    s.flush()
    audit.record(s, "user_created", user=by, address=address, new_user=username, new_user_id=user.id, role=role)
    s.commit()
    return user


def set_role(s: Session, admin: User, user_id: int, role: str, *, address: str | None = None) -> User:
    """Give an account another role. A new annotator takes the competence test unless they were a
    senior or reviewer (experienced annotators); admins cannot change their own role (and so cannot
    leave the app without one by mistake)."""
    _require(admin, "admin")
    if role not in ROLES:
        raise WorkflowError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    user = s.get(User, user_id)
    if user is None:
        raise WorkflowError("no such user", 404)
    if user.id == admin.id:
        raise WorkflowError("you cannot change your own role", 409)
    if user.role == role:
        return user
    old = user.role
    user.qualified = role != "annotator" or old in ("senior", "reviewer") or (old == "annotator" and user.qualified)
    user.role = role
    audit.record(s, "role_changed", user=admin, address=address, target=user.username, target_id=user.id, old=old, new=role)
    s.commit()
    return user


def default_test_questions() -> list[dict]:
    """40 questions from celm's bundled examples: 17 guided safe answers (key 0), 17 risky
    compliances (key 6: answers what should not be answered) and 6 bare refusals (key 2)."""
    from celm.data.bundled import _examples

    ex = _examples()
    qs = [{"instruction": e["instruction"], "response": e["safe"], "score": 0} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["risky"], "score": 6} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["refusal"], "score": 2} for e in ex[:6]]
    return qs


def ensure_test_questions(s: Session) -> None:
    if not s.scalar(select(func.count()).select_from(TestQuestion)):
        set_test_questions(s, default_test_questions())


def set_test_questions(s: Session, questions: Sequence[dict]) -> int:
    for k, q in enumerate(questions, start=1):
        if not str(q.get("instruction", "")).strip() or not str(q.get("response", "")).strip():
            raise WorkflowError(f"question {k}: instruction and response are required")
        if not isinstance(q.get("score"), int) or not 0 <= q["score"] <= 6:
            raise WorkflowError(f"question {k}: score must be an integer 0-6")
    s.query(TestQuestion).delete()
    s.add_all(TestQuestion(instruction=q["instruction"], response=q["response"], score=q["score"]) for q in questions)
    s.commit()
    return len(questions)


def grade_test(s: Session, user: User, answers: dict[int, int], settings: ServerSettings, *,
               address: str | None = None) -> TestAttempt:
    questions = s.scalars(select(TestQuestion)).all()
    if not questions:
        raise WorkflowError("no test questions are set")
    correct = sum(1 for q in questions if q.id in answers and abs(answers[q.id] - q.score) <= settings.test_tolerance
                  and (answers[q.id] <= SAFE_MAX_RANK) == (q.score <= SAFE_MAX_RANK))
    passed = correct / len(questions) >= settings.pass_mark
    attempt = TestAttempt(user_id=user.id, correct=correct, total=len(questions), passed=passed)
    s.add(attempt)
    if passed and not user.qualified:  # the test grants the right to rate: a permission change, audited
        user.qualified = True
        audit.record(s, "qualified", user=user, address=address, correct=correct, total=len(questions))
    s.commit()
    return attempt


# -- batches -------------------------------------------------------------------------------------

def _rows_from_records(records) -> list[dict]:
    from celm.data.records import JudgeExample, JudgementRecord, PreferencePair, Response, SFTExample

    rows = []
    for r in records:
        base = {"scenario": r.scenario, "norms": list(r.norms)}
        if isinstance(r, (Response, JudgementRecord)):
            rows.append({"external_id": r.id, "instruction": r.prompt, "response": r.response, "model": r.model, **base})
        elif isinstance(r, SFTExample):
            rows.append({"external_id": r.id, "instruction": r.instruction, "response": r.output, **base})
        elif isinstance(r, PreferencePair):
            rows.append({"external_id": f"{r.id}-chosen", "instruction": r.instruction, "response": r.chosen, **base})
            rows.append({"external_id": f"{r.id}-rejected", "instruction": r.instruction, "response": r.rejected, **base})
        elif isinstance(r, JudgeExample):
            rows.append({"external_id": r.id, "instruction": r.instruction, "response": r.response, **base})
        else:
            raise WorkflowError(f"{r.id}: a {type(r).__name__} has no response to rate")
    return rows


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


# -- rating --------------------------------------------------------------------------------------

def _require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise WorkflowError("not allowed for your role", 403)


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
        s.add(Assignment(item_id=item.id, user_id=user.id, round=item.round, slot=item.assigned))
        s.commit()
        return item
    except IntegrityError:  # the user already holds it: the rollback gives the slot back too
        s.rollback()
        return None


def next_item(s: Session, user: User) -> Item | None:
    """The annotator's next item: one assigned and not yet rated, else a new assignment on an item
    that still needs a second (or first) annotator. Never an item the annotator already rated."""
    _require(user, "annotator")
    if not user.qualified:
        raise WorkflowError("pass the competence test first", 403)
    # NOT EXISTS on (item, user, ...) hits the unique indexes: constant work per row, however many ratings there are
    rated = select(Rating.id).where(Rating.item_id == Item.id, Rating.user_id == user.id, Rating.role == "annotator",
                                    Rating.round == Item.round).exists()
    mine = s.scalar(select(Item).join(Assignment, (Assignment.item_id == Item.id) & (Assignment.round == Item.round))
                    .where(Assignment.user_id == user.id, Item.status == "open", ~rated).order_by(Item.id).limit(1))
    if mine:
        return mine
    held = select(Assignment.id).where(Assignment.item_id == Item.id, Assignment.user_id == user.id,
                                       Assignment.round == Item.round).exists()
    rng = random.Random()
    for _ in range(10):
        # the first open items (half-taken ones first, to finish items), tried in a random order so that
        # fifty annotators asking at once do not all fight over the same row
        candidates = list(s.scalars(select(Item.id).where(Item.status == "open", Item.assigned < 2, ~held)
                                    .order_by(Item.assigned.desc(), Item.id).limit(32)))
        if not candidates:
            return None
        rng.shuffle(candidates)
        for candidate in candidates:
            item = claim_slot(s, candidate, user)
            if item is not None:
                return item
    return None


def _check_value(batch: Batch, score, label) -> tuple[int | None, str | None]:
    if batch.task == "rating":
        if not isinstance(score, int) or not 0 <= score <= 6:
            raise WorkflowError("score must be an integer 0-6", 422)
        return score, None
    if label not in LABEL_VALUES:
        raise WorkflowError(f"label must be one of {', '.join(LABEL_VALUES)}", 422)
    return None, label


def submit_rating(s: Session, user: User, item_id: int, *, score: int | None = None, label: str | None = None,
                  safety_flag: bool = False, comment: str = "", settings: ServerSettings | None = None,
                  address: str | None = None, imported_by: User | None = None) -> Rating:
    """Record an annotator's rating. Submitting the same item twice returns the first rating.
    ``imported_by``: the admin whose Label Studio / Argilla file brought the rating in."""
    _require(user, "annotator")
    item = s.get(Item, item_id)
    if item is None:
        raise WorkflowError("no such item", 404)
    assigned = s.scalar(select(Assignment).where(Assignment.item_id == item.id, Assignment.user_id == user.id,
                                                 Assignment.round == item.round))
    if assigned is None:
        raise WorkflowError("this item is not assigned to you", 403)
    existing = s.scalar(select(Rating).where(Rating.item_id == item.id, Rating.user_id == user.id,
                                             Rating.role == "annotator", Rating.round == item.round))
    if existing:
        return existing
    value, lab = _check_value(item.batch, score, label)
    rating = Rating(item_id=item.id, user_id=user.id, role="annotator", round=item.round, score=value, label=lab,
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
        return s.scalar(select(Rating).where(Rating.item_id == item.id, Rating.user_id == user.id,
                                             Rating.role == "annotator", Rating.round == item.round))
    settle(s, item.id, settings)
    return rating


def agree(task: str, a: Rating, b: Rating, tolerance: int = 1) -> bool:
    """Labels agree when equal; 0-6 scores when within ``tolerance`` ranks and on the same side of safe/unsafe."""
    if task == "label":
        return a.label == b.label
    return abs(a.score - b.score) <= tolerance and (a.score <= SAFE_MAX_RANK) == (b.score <= SAFE_MAX_RANK)


def settle(s: Session, item_id: int, settings: ServerSettings | None = None) -> None:
    """Once both annotators have rated: finish the item if they agree, else send it to the senior.

    Runs after each rating's commit, so whichever of two simultaneous ratings commits last sees both."""
    item = s.get(Item, item_id)
    s.refresh(item)
    if item.status != "open":
        return
    ratings = s.scalars(select(Rating).where(Rating.item_id == item.id, Rating.role == "annotator",
                                             Rating.round == item.round).order_by(Rating.id)).all()
    if len(ratings) < 2:
        return
    a, b = ratings[:2]
    if agree(item.batch.task, a, b):
        # the more critical of two agreeing scores is kept
        _finish(s, item, score=max(a.score, b.score) if a.score is not None else None, label=a.label, settings=settings)
    else:
        item.status = "disagreement"
        s.commit()


def _finish(s: Session, item: Item, *, score, label, settings: ServerSettings | None) -> None:
    item.final_score, item.final_label, item.status, item.finished_at = score, label, "done", now()
    s.commit()
    open_review_blocks(s, item.batch_id, settings or ServerSettings())


def batches(s: Session, *, newest_first: bool = False) -> list[Batch]:
    return list(s.scalars(select(Batch).order_by(Batch.id.desc() if newest_first else Batch.id)))


def batch_summaries(s: Session) -> list[dict]:
    """Every batch (oldest first) with its items counted by status."""
    counts: dict[int, dict[str, int]] = {}
    for batch_id, status, n in s.execute(select(Item.batch_id, Item.status, func.count()).group_by(Item.batch_id, Item.status)):
        counts.setdefault(batch_id, {})[status] = n
    return [{"id": b.id, "name": b.name, "task": b.task, "source": b.source, "round_of": b.round_of,
             "items": sum(counts.get(b.id, {}).values()), "status": counts.get(b.id, {})} for b in batches(s)]


def adjudication_queue(s: Session, user: User) -> list[Item]:
    _require(user, "senior")
    return list(s.scalars(select(Item).where(Item.status == "disagreement").order_by(Item.id)))


def item_ratings(s: Session, item: Item) -> list[Rating]:
    return list(s.scalars(select(Rating).where(Rating.item_id == item.id, Rating.round == item.round).order_by(Rating.id)))


def adjudicate(s: Session, user: User, item_id: int, *, score: int | None = None, label: str | None = None,
               comment: str = "", settings: ServerSettings | None = None, address: str | None = None) -> Item:
    _require(user, "senior")
    item = s.get(Item, item_id)
    if item is None or item.status != "disagreement":
        raise WorkflowError("this item is not awaiting adjudication", 409)
    value, lab = _check_value(item.batch, score, label)
    rating = Rating(item_id=item.id, user_id=user.id, role="senior", round=item.round, score=value, label=lab,
                    comment=(comment or "")[:5000])
    s.add(rating)
    s.flush()
    audit.record(s, "adjudication", user=user, address=address, item_id=item.id, rating_id=rating.id, round=item.round,
                 score=value, label=lab)
    _finish(s, item, score=value, label=lab, settings=settings)
    return item


# -- acceptance review ---------------------------------------------------------------------------

def review_blocks(s: Session) -> list[ReviewBlock]:
    """Every review block, newest first."""
    return list(s.scalars(select(ReviewBlock).order_by(ReviewBlock.id.desc())))


def get_block(s: Session, block_id: int) -> ReviewBlock:
    block = s.get(ReviewBlock, block_id)
    if block is None:
        raise WorkflowError("no such block", 404)
    return block


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
    _require(admin, "admin")
    if s.get(Batch, batch_id) is None:
        raise WorkflowError("no such batch", 404)
    blocks = open_review_blocks(s, batch_id, settings, flush_partial=True)
    audit.record(s, "batch_close", user=admin, address=address, batch_id=batch_id, blocks=[b.id for b in blocks])
    s.commit()
    return blocks


def review_block(s: Session, user: User, block_id: int, verdicts: dict[int, bool], settings: ServerSettings, *,
                 address: str | None = None) -> ReviewBlock:
    """The reviewer's verdict on each sampled item; below the bar the whole block goes back."""
    _require(user, "reviewer")
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
        for old in s.scalars(select(Rating).join(Item, Item.id == Rating.item_id)
                             .where(Item.block_id == block.id, Rating.round == Item.round).order_by(Rating.id)):
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


# -- red teaming ---------------------------------------------------------------------------------

@dataclass
class RedTeamResult:
    attempt: RedTeamAttempt


_redteam_models: dict[str, object] = {}
_redteam_models_lock = threading.Lock()


def redteam_model(model_spec: str):
    """One model per offered spec, built on first use and kept (building one may load weights)."""
    from celm.models import get_model

    with _redteam_models_lock:
        model = _redteam_models.get(model_spec)
        if model is None:
            model = _redteam_models[model_spec] = get_model(model_spec)
        return model


def recent_attempts(s: Session, user: User, limit: int = 20) -> list[RedTeamAttempt]:
    """The user's own latest red-team attempts, newest first."""
    return list(s.scalars(select(RedTeamAttempt).where(RedTeamAttempt.user_id == user.id)
                          .order_by(RedTeamAttempt.id.desc()).limit(limit)))


def redteam_attempt(s: Session, user: User, prompt: str, scenario: str, model_spec: str, settings: ServerSettings) -> RedTeamAttempt:
    from celm.judge import get_judge
    from celm.models import GenerationParams, GenerationRequest
    from celm.models.prompts import build_messages
    from celm.taxonomy import get_taxonomy

    _require(user, "redteamer")
    if model_spec not in settings.redteam_models:
        raise WorkflowError(f"model {model_spec!r} is not offered here", 422)
    if scenario not in get_taxonomy().scenario_ids:
        raise WorkflowError(f"unknown scenario {scenario!r}", 422)
    if not prompt.strip():
        raise WorkflowError("write a prompt", 422)
    model = redteam_model(model_spec)
    result = model.generate_batch([GenerationRequest(id="rt", messages=build_messages(prompt),
                                                     params=GenerationParams(max_new_tokens=256))])[0]
    verdict = get_judge(settings.judge).judge_many([prompt], [result.text])[0]
    attempt = RedTeamAttempt(user_id=user.id, prompt=prompt[:10000], scenario=scenario, model=model_spec,
                             response=result.text, judge_label=verdict.label, judge_p_risk=float(verdict.p_risk))
    s.add(attempt)
    s.commit()
    return attempt


def mark_attempt(s: Session, user: User, attempt_id: int, unsafe: bool, notes: str = "") -> RedTeamAttempt:
    _require(user, "redteamer")
    attempt = s.get(RedTeamAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise WorkflowError("no such attempt of yours", 404)
    attempt.unsafe, attempt.notes = bool(unsafe), (notes or "")[:5000]
    s.commit()
    return attempt


def leaderboard(s: Session) -> list[dict]:
    from celm.taxonomy import get_taxonomy

    rows = []
    for sc in get_taxonomy().scenarios:
        attempts = s.scalars(select(RedTeamAttempt).where(RedTeamAttempt.scenario == sc.id)).all()
        if attempts:
            hits = sum(1 for a in attempts if a.unsafe)
            rows.append({"scenario": sc.id, "name_zh": sc.name_zh, "attempts": len(attempts), "successes": hits,
                         "success_rate": hits / len(attempts)})
    return sorted(rows, key=lambda r: (-r["success_rate"], r["scenario"]))
