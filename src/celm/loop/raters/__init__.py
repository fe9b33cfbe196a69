"""Who ranks a round's answers 0–6: people in ``celm serve`` (``app:URL``) or an automatic stand-in.

- ``app:URL`` — the paper's process: the round's answers become a rating batch in the annotation app;
  two annotators rate each, a senior settles disagreements, a reviewer accepts the batch; the loop
  waits, then takes the app's final ranks (celm.loop.raters.app).
- ``judge:JUDGE_SPEC`` — a safety judge's four verdicts read as ranks (celm.judge.ranks); and
  ``llm:MODEL_SPEC`` — an LLM with the A.1 rubric, its own ranks. Both are marked ``automatic`` in
  every file and report: an automatic rater is never presented as human.

Adding a rater means adding one module with a :class:`Rater` subclass and one line below.
"""

from __future__ import annotations

from celm.loop.raters.base import Rater, RatingOutcome
from celm.registry import Registry

RATERS: Registry = Registry("rater")
RATERS.register("judge", "celm.loop.raters.judge:JudgeRater", "a safety judge's verdicts read as 0-6 ranks (automatic)")
RATERS.register("llm", "celm.loop.raters.judge:JudgeRater", "an LLM with the A.1 rubric (automatic)")
RATERS.register("app", "celm.loop.raters.app:AppRater", "people: two annotators, a senior and a reviewer in celm serve")


def rater_kind(spec: str) -> str:
    """``app:http://host:8000`` -> ``app``; the rest of the spec is the rater's target (models.registry.nested_target)."""
    return spec.partition(":")[0]


def get_rater(settings) -> Rater:
    """The rater a :class:`celm.loop.config.RaterSettings` names."""
    return RATERS.get(rater_kind(settings.spec))(settings)


__all__ = ["RATERS", "Rater", "RatingOutcome", "get_rater", "rater_kind"]
