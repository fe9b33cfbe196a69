"""The paper's human process as functions on a database session (section 3.2, appendix A.1-A.2).

Two annotators rate each item blind; a disagreement goes to a senior whose score is final; every
``block_size`` finished items the reviewer checks a random ``sample_size`` of them and below the
acceptance bar the whole block is returned for rating again. The web app calls these functions;
scripts can too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from celm.data.records import SAFETY_LABELS
from celm.server.guideline import SAFE_MAX_RANK
from celm.server.models import (
    ROLES, Assignment, Batch, Item, Rating, RedTeamAttempt, ReviewBlock, TestAttempt, TestQuestion, User, now,
)
from celm.server.settings import ServerSettings

LABEL_VALUES = SAFETY_LABELS


class WorkflowError(Exception):
    """A request the workflow refuses (wrong state, not assigned, bad value); ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- users and the competence test --------------------------------------------------------------

def create_user(s: Session, username: str, password: str, role: str) -> User:
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


def grade_test(s: Session, user: User, answers: dict[int, int], settings: ServerSettings) -> TestAttempt:
    questions = s.scalars(select(TestQuestion)).all()
    if not questions:
        raise WorkflowError("no test questions are set")
    correct = sum(1 for q in questions if q.id in answers and abs(answers[q.id] - q.score) <= settings.test_tolerance
                  and (answers[q.id] <= SAFE_MAX_RANK) == (q.score <= SAFE_MAX_RANK))
    passed = correct / len(questions) >= settings.pass_mark
    attempt = TestAttempt(user_id=user.id, correct=correct, total=len(questions), passed=passed)
    s.add(attempt)
    if passed:
        user.qualified = True
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


def import_batch(s: Session, name: str, records=None, *, rows: Sequence[dict] | None = None, task: str = "rating",
                 source: str = "") -> Batch:
    """A batch of (instruction, response) items from celm records (Response, SFTExample,
    PreferencePair, JudgeExample, JudgementRecord) or plain rows."""
    if task not in ("rating", "label"):
        raise WorkflowError(f"task must be rating (0-6) or label ({'/'.join(LABEL_VALUES)})")
    rows = list(rows or []) + (_rows_from_records(records) if records else [])
    if not rows:
        raise WorkflowError("nothing to import")
    batch = Batch(name=name or "batch", task=task, source=source)
    s.add(batch)
    s.flush()
    seen = set()
    for row in rows:
        if row["external_id"] in seen:
            raise WorkflowError(f"duplicate item id {row['external_id']!r}")
        seen.add(row["external_id"])
        s.add(Item(batch_id=batch.id, external_id=row["external_id"], instruction=row["instruction"],
                   response=row["response"], model=row.get("model") or "", scenario=row.get("scenario"),
                   norms=row.get("norms") or []))
    s.commit()
    return batch


# -- rating --------------------------------------------------------------------------------------

def _require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise WorkflowError("not allowed for your role", 403)


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
            # claim a slot atomically: the UPDATE only succeeds while fewer than two annotators hold the item
            claimed = s.execute(update(Item).where(Item.id == candidate, Item.assigned < 2)
                                .values(assigned=Item.assigned + 1)).rowcount
            if not claimed:
                s.rollback()
                continue
            item = s.get(Item, candidate)
            s.refresh(item)
            try:
                s.add(Assignment(item_id=item.id, user_id=user.id, round=item.round, slot=item.assigned))
                s.commit()
                return item
            except IntegrityError:
                s.rollback()
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
                  safety_flag: bool = False, comment: str = "", settings: ServerSettings | None = None) -> Rating:
    """Record an annotator's rating. Submitting the same item twice returns the first rating."""
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


def adjudication_queue(s: Session, user: User) -> list[Item]:
    _require(user, "senior")
    return list(s.scalars(select(Item).where(Item.status == "disagreement").order_by(Item.id)))


def item_ratings(s: Session, item: Item) -> list[Rating]:
    return list(s.scalars(select(Rating).where(Rating.item_id == item.id, Rating.round == item.round).order_by(Rating.id)))


def adjudicate(s: Session, user: User, item_id: int, *, score: int | None = None, label: str | None = None,
               comment: str = "", settings: ServerSettings | None = None) -> Item:
    _require(user, "senior")
    item = s.get(Item, item_id)
    if item is None or item.status != "disagreement":
        raise WorkflowError("this item is not awaiting adjudication", 409)
    value, lab = _check_value(item.batch, score, label)
    s.add(Rating(item_id=item.id, user_id=user.id, role="senior", round=item.round, score=value, label=lab,
                 comment=(comment or "")[:5000]))
    _finish(s, item, score=value, label=lab, settings=settings)
    return item


# -- acceptance review ---------------------------------------------------------------------------

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


def review_block(s: Session, user: User, block_id: int, verdicts: dict[int, bool], settings: ServerSettings) -> ReviewBlock:
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
        for item in s.scalars(select(Item).where(Item.block_id == block.id)):
            item.round += 1  # old ratings stay, superseded; two annotators rate it afresh
            item.status, item.final_score, item.final_label, item.finished_at, item.block_id = "open", None, None, None, None
            item.assigned = 0
    s.commit()
    return block


# -- red teaming ---------------------------------------------------------------------------------

@dataclass
class RedTeamResult:
    attempt: RedTeamAttempt


def redteam_attempt(s: Session, user: User, prompt: str, scenario: str, model_spec: str, settings: ServerSettings) -> RedTeamAttempt:
    from celm.judge import get_judge
    from celm.models import GenerationParams, GenerationRequest, get_model
    from celm.models.prompts import build_messages
    from celm.taxonomy import get_taxonomy

    _require(user, "redteamer")
    if model_spec not in settings.redteam_models:
        raise WorkflowError(f"model {model_spec!r} is not offered here", 422)
    if scenario not in get_taxonomy().scenario_ids:
        raise WorkflowError(f"unknown scenario {scenario!r}", 422)
    if not prompt.strip():
        raise WorkflowError("write a prompt", 422)
    model = get_model(model_spec)
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
