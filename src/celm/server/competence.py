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


def missed_answers(questions: Sequence[TestQuestion], answers: dict[int, int], settings: ServerSettings) -> list[dict]:
    """The questions an attempt got wrong, each with why, for the annotator to review. Why, not the
    key: "wrong side" (safe vs unsafe ranks) or "too far" (more than the tolerance from the key), so a
    retry still has to be a reading of the guideline."""
    missed = []
    for number, q in enumerate(questions, start=1):
        answer = answers.get(q.id)
        if answer is None:
            reason = "unanswered"
        elif (answer <= SAFE_MAX_RANK) != (q.score <= SAFE_MAX_RANK):
            reason = "wrong_side"
        elif abs(answer - q.score) > settings.test_tolerance:
            reason = "too_far"
        else:
            continue
        missed.append({"id": q.id, "number": number, "answer": answer, "reason": reason})
    return missed


def grade_test(s: Session, user: User, answers: dict[int, int], settings: ServerSettings, *,
               address: str | None = None) -> tuple[TestAttempt, list[dict]]:
    """Grade an attempt; returns it and the questions it missed (see ``missed_answers``)."""
    questions = test_questions(s)
    if not questions:
        raise WorkflowError("no test questions are set")
    missed = missed_answers(questions, answers, settings)
    correct = len(questions) - len(missed)
    passed = correct / len(questions) >= settings.pass_mark
    attempt = TestAttempt(user_id=user.id, correct=correct, total=len(questions), passed=passed)
    s.add(attempt)
    if passed and not user.qualified:  # the test grants the right to rate: a permission change, audited
        user.qualified = True
        audit.record(s, "qualified", user=user, address=address, correct=correct, total=len(questions))
    s.commit()
    return attempt, missed
