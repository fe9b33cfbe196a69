"""The competence tests: their questions, and grading an annotator's answers. Two tests, one per
task: the **rating test** (ranks 0-6 of appendix A.1) grants the right to rate rating batches, the
**label test** (the four verdicts of docs/judge-rubric.md) the right to label label batches. Passing
is a permission change, audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celm.data.records import SAFETY_LABELS as LABEL_VALUES
from celm.server import audit
from celm.server.errors import WorkflowError
from celm.labels import is_safe_rank
from celm.server.models import TestAttempt, TestQuestion, User
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
    """40 questions from celm's bundled examples: 17 guided safe answers (key 0), 17 risky
    compliances (key 6: answers what should not be answered) and 6 bare refusals (key 2)."""
    from celm.data.bundled import _examples

    ex = _examples()
    qs = [{"instruction": e["instruction"], "response": e["safe"], "score": 0} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["risky"], "score": 6} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["refusal"], "score": 2} for e in ex[:6]]
    return qs


#: Irrelevant answers to bundled example requests, as small models write them: the request echoed as
#: a statement, a question back, babble (docs/judge-rubric.md). Keyed by the example's position.
IRRELEVANT_ANSWERS = {
    6: "我也在想怎么用AI换脸把同事的脸放到搞笑视频里。",
    7: "你问的是哪一种？我今天心情很好，想出去走走。",
    8: "我正在考虑网上赌球平台的事情。",
    9: "银行卡是一种很方便的支付工具，我每天都用它买咖啡。",
    10: "你为什么想知道这个？",
    11: "我正在寻找我的手机号码，但是找不到了。",
}


def default_label_test_questions() -> list[dict]:
    """46 questions for the label test from the same examples: the 17 guided answers (safe, or
    reject where the guidance follows an explicit refusal: ``safe_verdict``), 17 risky compliances,
    6 bare refusals and 6 irrelevant answers, each keyed by its verdict."""
    from celm.data.bundled import _examples

    ex = _examples()
    qs = [{"instruction": e["instruction"], "response": e["safe"], "label": e.get("safe_verdict", "safe")} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["risky"], "label": "risk"} for e in ex]
    qs += [{"instruction": e["instruction"], "response": e["refusal"], "label": "reject"} for e in ex[:6]]
    qs += [{"instruction": ex[k]["instruction"], "response": text, "label": "irrelevant"} for k, text in IRRELEVANT_ANSWERS.items()]
    return qs


def ensure_test_questions(s: Session) -> None:
    for task, defaults in (("rating", default_test_questions), ("label", default_label_test_questions)):
        if not s.scalar(select(func.count()).select_from(TestQuestion).where(_of_task(task))):
            set_test_questions(s, defaults())


def set_test_questions(s: Session, questions: Sequence[dict]) -> int:
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
    s.add_all(TestQuestion(instruction=q["instruction"], response=q["response"], score=q.get("score"), label=q.get("label"))
              for q in questions)
    s.commit()
    return len(questions)


def missed_answers(questions: Sequence[TestQuestion], answers: dict[int, int | str], settings: ServerSettings) -> list[dict]:
    """The questions an attempt got wrong, each with why, for the annotator to review. Why, not the
    key: "wrong side" (safe vs unsafe ranks) or "too far" (more than the tolerance from the key) for
    ranks, "wrong label" for verdicts, so a retry still has to be a reading of the guideline."""
    missed = []
    for number, q in enumerate(questions, start=1):
        answer = answers.get(q.id)
        if answer is None:
            reason = "unanswered"
        elif q.label is not None:
            if answer == q.label:
                continue
            reason = "wrong_label"
        elif not isinstance(answer, int):
            reason = "unanswered"
        elif is_safe_rank(answer) != is_safe_rank(q.score):
            reason = "wrong_side"
        elif abs(answer - q.score) > settings.test_tolerance:
            reason = "too_far"
        else:
            continue
        missed.append({"id": q.id, "number": number, "answer": answer, "reason": reason})
    return missed


def grade_test(s: Session, user: User, answers: dict[int, int | str], settings: ServerSettings, *,
               address: str | None = None, task: str = "rating") -> tuple[TestAttempt, list[dict]]:
    """Grade an attempt at one test; returns it and the questions it missed (see ``missed_answers``)."""
    questions = test_questions(s, task)
    if not questions:
        raise WorkflowError(f"no {task} test questions are set")
    missed = missed_answers(questions, answers, settings)
    correct = len(questions) - len(missed)
    passed = correct / len(questions) >= settings.pass_mark
    attempt = TestAttempt(user_id=user.id, correct=correct, total=len(questions), passed=passed)
    s.add(attempt)
    if passed and not is_qualified(user, task):  # the test grants the right to rate: a permission change, audited
        if task == "label":
            user.qualified_label = True
        else:
            user.qualified = True
        audit.record(s, "qualified", user=user, address=address, correct=correct, total=len(questions), task=task)
    s.commit()
    return attempt, missed
