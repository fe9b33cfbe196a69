"""The competence test: its questions, and grading an annotator's answers; passing
grants a new annotator the right to rate (audited)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError
from celm.server.guideline import SAFE_MAX_RANK
from celm.server.models import TestAttempt, TestQuestion, User
from celm.server.settings import ServerSettings


def test_questions(s: Session) -> list[TestQuestion]:
    return list(s.scalars(select(TestQuestion).order_by(TestQuestion.id)))


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

