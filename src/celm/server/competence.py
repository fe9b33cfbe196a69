"""The competence tests: their questions, and grading an annotator's answers. Two tests, one per
task: the **rating test** (ranks 0-6 of appendix A.1) grants the right to rate rating batches, the
**label test** (the four verdicts of docs/judge-rubric.md) the right to label label batches. Passing
is a permission change, audited.

The paper's gate (90% of 40 questions) holds only if it cannot be passed without reading: each
attempt draws its 40 afresh from a larger bank (celm.server.competence_bank), failed attempts are
limited (``test_attempts`` per ``test_cooldown_s``), the feedback names parts of the guideline,
never a question's key or the side it was missed on, and every attempt is audited."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from celm.data.records import SAFETY_LABELS as LABEL_VALUES
from celm.server import audit
from celm.server.errors import WorkflowError
from celm.labels import is_safe_rank
from celm.server.models import TestAttempt, TestQuestion, User, now
from celm.server.settings import ServerSettings

TASKS = ("rating", "label")


def check_task(task: str) -> str:
    if task not in TASKS:
        raise WorkflowError(f"task must be one of {', '.join(TASKS)}", 422)
    return task


def _of_task(task: str):
    """The questions of one test: label questions carry a verdict key, rating questions none."""
    return TestQuestion.label.is_not(None) if check_task(task) == "label" else TestQuestion.label.is_(None)


def test_questions(s: Session, task: str = "rating") -> list[TestQuestion]:
    return list(s.scalars(select(TestQuestion).where(_of_task(task)).order_by(TestQuestion.id)))


def is_qualified(user: User, task: str) -> bool:
    return user.qualified_label if task == "label" else user.qualified


def default_test_questions() -> list[dict]:
    """The default bank of the rating test (celm.server.competence_bank): more questions than an attempt draws."""
    from celm.server.competence_bank import default_bank

    return default_bank("rating")


def default_label_test_questions() -> list[dict]:
    """The default bank of the label test (celm.server.competence_bank)."""
    from celm.server.competence_bank import default_bank

    return default_bank("label")


def ensure_test_questions(s: Session) -> None:
    for task, defaults in (("rating", default_test_questions), ("label", default_label_test_questions)):
        if not s.scalar(select(func.count()).select_from(TestQuestion).where(_of_task(task))):
            set_test_questions(s, defaults())


def set_test_questions(s: Session, questions: Sequence[dict], *, by: User | None = None, address: str | None = None) -> int:
    """Replace a test's questions. Each question has a ``score`` (0-6: the rating test) or a
    ``label`` (a verdict: the label test); a list may hold both tests, and each test it holds is
    replaced as a whole while the other stays."""
    tasks = set()
    for k, q in enumerate(questions, start=1):
        if not isinstance(q, dict) or not str(q.get("instruction", "")).strip() or not str(q.get("response", "")).strip():
            raise WorkflowError(f"question {k}: instruction and response are required")
        if (q.get("score") is None) == (q.get("label") is None):
            raise WorkflowError(f"question {k}: give either score (0-6, the rating test) or label (the label test)")
        if q.get("label") is not None:
            if q["label"] not in LABEL_VALUES:
                raise WorkflowError(f"question {k}: label must be one of {', '.join(LABEL_VALUES)}")
            tasks.add("label")
        else:
            if not isinstance(q.get("score"), int) or not 0 <= q["score"] <= 6:
                raise WorkflowError(f"question {k}: score must be an integer 0-6")
            tasks.add("rating")
    for task in tasks:
        for old in test_questions(s, task):
            s.delete(old)
        # attempts drawn from the old bank and not yet submitted are void (not counted); each draws again
        s.execute(delete(TestAttempt).where(TestAttempt.task == task, TestAttempt.finished_at.is_(None)))
    s.add_all(TestQuestion(instruction=q["instruction"], response=q["response"], score=q.get("score"), label=q.get("label"))
              for q in questions)
    if by is not None:
        counts = {task: sum(1 for q in questions if (q.get("label") is not None) == (task == "label")) for task in sorted(tasks)}
        audit.record(s, "test_replaced", user=by, address=address, questions=counts)
    s.commit()
    return len(questions)


def _is_right(q: TestQuestion, answer, settings: ServerSettings) -> bool:
    if q.label is not None:
        return answer == q.label
    if not isinstance(answer, int) or isinstance(answer, bool):
        return False
    return is_safe_rank(answer) == is_safe_rank(q.score) and abs(answer - q.score) <= settings.test_tolerance


#: Feedback groups of the rating test: the guideline's bands of ranks, which an annotator re-reads.
RANK_BANDS = (("ranks_0_1", 0, 1), ("ranks_2_3", 2, 3), ("ranks_4_6", 4, 6))


def _group(q: TestQuestion) -> str:
    if q.label is not None:
        return q.label
    return next(name for name, lo, hi in RANK_BANDS if lo <= q.score <= hi)


def feedback(questions: Sequence[TestQuestion], answers: dict[int, int | str], settings: ServerSettings) -> list[dict]:
    """What an attempt teaches: per part of the guideline (a band of ranks, or a verdict), how many of
    its questions were right. Never which question was wrong or which way: with per-question reasons
    a second attempt could be set from the first one's feedback, without reading anything. Each
    attempt draws other questions, so these counts give nothing away about the next."""
    groups: dict[str, dict] = {}
    for q in questions:
        g = groups.setdefault(_group(q), {"group": _group(q), "total": 0, "right": 0})
        g["total"] += 1
        g["right"] += _is_right(q, answers.get(q.id), settings)
    order = [name for name, _, _ in RANK_BANDS] + list(LABEL_VALUES)
    return sorted(groups.values(), key=lambda g: order.index(g["group"]))


def _failures(s: Session, user: User, task: str, settings: ServerSettings) -> list[TestAttempt]:
    since = now() - timedelta(seconds=settings.test_cooldown_s)
    return list(s.scalars(select(TestAttempt).where(TestAttempt.user_id == user.id, TestAttempt.task == task,
                                                    TestAttempt.finished_at.is_not(None), TestAttempt.finished_at >= since,
                                                    TestAttempt.passed.is_(False)).order_by(TestAttempt.finished_at)))


def next_attempt_at(s: Session, user: User, task: str, settings: ServerSettings) -> datetime | None:
    """None when the annotator may take the test now; else the time (UTC) they may again: after
    ``test_attempts`` failed attempts within ``test_cooldown_s``, the oldest of them must age out."""
    failures = _failures(s, user, task, settings)
    if len(failures) < settings.test_attempts:
        return None
    return failures[-settings.test_attempts].finished_at + timedelta(seconds=settings.test_cooldown_s)


def attempts_left(s: Session, user: User, task: str, settings: ServerSettings) -> int:
    return max(0, settings.test_attempts - len(_failures(s, user, task, settings)))


def _open_attempt(s: Session, user: User, task: str) -> TestAttempt | None:
    return s.scalar(select(TestAttempt).where(TestAttempt.user_id == user.id, TestAttempt.task == task,
                                              TestAttempt.finished_at.is_(None)).order_by(TestAttempt.id.desc()).limit(1))


def _stratified(questions: list[TestQuestion], size: int, rng: random.Random) -> list[TestQuestion]:
    """``size`` questions drawn at random, each part of the guideline (``_group``) in the bank's
    proportion (largest remainders), so that every draw is about as hard as any other."""
    if size >= len(questions):
        picked = list(questions)
    else:
        groups: dict[str, list[TestQuestion]] = {}
        for q in questions:
            groups.setdefault(_group(q), []).append(q)
        shares = {g: size * len(qs) / len(questions) for g, qs in groups.items()}
        counts = {g: int(v) for g, v in shares.items()}
        for g in sorted(shares, key=lambda g: shares[g] - counts[g], reverse=True)[: size - sum(counts.values())]:
            counts[g] += 1
        picked = [q for g, qs in groups.items() for q in rng.sample(qs, counts[g])]
    rng.shuffle(picked)
    return picked


def draw(s: Session, user: User, task: str, settings: ServerSettings) -> TestAttempt:
    """The annotator's attempt at a test: the one drawn and not yet submitted, else a fresh draw of
    ``test_size`` questions from the bank (refused with 429 while the cool-down lasts). Opening the
    test again shows the same draw: a new one comes only with a new attempt."""
    check_task(task)
    attempt = _open_attempt(s, user, task)
    if attempt is not None:
        return attempt
    wait = next_attempt_at(s, user, task, settings)
    if wait is not None:
        raise WorkflowError(f"已有 {settings.test_attempts} 次未通过，请在 {wait:%Y-%m-%d %H:%M} UTC 之后再试，其间请重读评分标准 "
                            f"({settings.test_attempts} failed attempts: you can take the {task} test again after "
                            f"{wait:%Y-%m-%d %H:%M} UTC; meanwhile re-read the guideline)", 429)
    bank = test_questions(s, task)
    if not bank:
        raise WorkflowError(f"no {task} test questions are set")
    picked = _stratified(bank, settings.test_size, random.SystemRandom())
    attempt = TestAttempt(user_id=user.id, task=task, questions=[q.id for q in picked], total=len(picked))
    s.add(attempt)
    s.commit()
    return attempt


def drawn_questions(s: Session, attempt: TestAttempt) -> list[TestQuestion]:
    by_id = {q.id: q for q in s.scalars(select(TestQuestion).where(TestQuestion.id.in_(attempt.questions or [])))}
    return [by_id[i] for i in attempt.questions or [] if i in by_id]


def grade_test(s: Session, user: User, answers: dict[int, int | str], settings: ServerSettings, *,
               address: str | None = None, task: str = "rating") -> tuple[TestAttempt, list[dict]]:
    """Grade the annotator's attempt (drawn now if they never opened the test) on the questions it
    drew; answers to other questions count for nothing. Every attempt is audited. Returns the
    attempt and its :func:`feedback`."""
    attempt = draw(s, user, task, settings)
    questions = drawn_questions(s, attempt)
    correct = sum(_is_right(q, answers.get(q.id), settings) for q in questions)
    attempt.correct, attempt.total, attempt.finished_at = correct, len(questions), now()
    attempt.passed = bool(questions) and correct / len(questions) >= settings.pass_mark
    audit.record(s, "test_attempt", user=user, address=address, task=task, attempt_id=attempt.id, correct=correct,
                 total=len(questions), passed=attempt.passed)
    if attempt.passed and not is_qualified(user, task):  # the test grants the right to rate: a permission change, audited
        if task == "label":
            user.qualified_label = True
        else:
            user.qualified = True
        audit.record(s, "qualified", user=user, address=address, correct=correct, total=len(questions), task=task)
    s.commit()
    return attempt, feedback(questions, answers, settings)
