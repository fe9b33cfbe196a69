"""Red teaming: a red-teamer's prompt against an offered model, the judge's verdict on the answer,
the red-teamer's own mark, and the per-scenario leaderboard."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from celm.server import audit
from celm.server.errors import WorkflowError, require
from celm.server.models import RedTeamAttempt, User
from celm.server.settings import ServerSettings


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


def redteam_attempt(s: Session, user: User, prompt: str, scenario: str, model_spec: str, settings: ServerSettings, *,
                    address: str | None = None) -> RedTeamAttempt:
    from celm.judge import get_judge
    from celm.models import GenerationParams, GenerationRequest
    from celm.models.prompts import build_messages
    from celm.taxonomy import get_taxonomy

    require(user, "redteamer")
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
    s.flush()
    audit.record(s, "redteam_attempt", user=user, address=address, attempt_id=attempt.id, scenario=scenario, model=model_spec,
                 judge_label=verdict.label)
    s.commit()
    return attempt


def mark_attempt(s: Session, user: User, attempt_id: int, unsafe: bool, notes: str = "", *,
                 address: str | None = None) -> RedTeamAttempt:
    require(user, "redteamer")
    attempt = s.get(RedTeamAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise WorkflowError("no such attempt of yours", 404)
    attempt.unsafe, attempt.notes = bool(unsafe), (notes or "")[:5000]
    audit.record(s, "redteam_mark", user=user, address=address, attempt_id=attempt.id, unsafe=bool(unsafe))
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
