"""Automatic raters: a safety judge's verdicts (``judge:SPEC``) or an LLM's A.1 ranks (``llm:MODEL``).

Verdicts become ranks by :func:`celm.judge.ranks.verdict_to_rank`. Answers are judged in chunks and
each chunk is appended to ``ratings.partial.jsonl`` as it is done, so a killed rating step asks the
judge (for ``llm:``, a model) about no answer twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from celm.data.io import jsonl_lines
from celm.data.records import Provenance, Rating, Response
from celm.loop.raters.base import Rater, RatingOutcome
from celm.models.registry import nested_target

CHUNK = 64


class JudgeRater(Rater):
    kind = "automatic"

    def __init__(self, settings):
        super().__init__(settings)
        # judge:builtin -> the judge "builtin"; llm:MODEL_SPEC is itself a judge spec
        self.judge_spec = nested_target(self.spec) if self.spec.startswith("judge:") else self.spec
        if not self.judge_spec:
            raise ValueError("judge: needs a judge spec, e.g. judge:builtin or judge:keyword")
        self._judge = None

    @property
    def judge(self):
        if self._judge is None:
            from celm.judge import get_judge

            self._judge = get_judge(self.judge_spec)
        return self._judge

    def rate(self, responses: list[Response], round_folder, *, log: Callable[[str], None] = print) -> RatingOutcome:
        from celm.judge.ranks import verdict_to_rank

        partial = round_folder.ratings_partial_jsonl
        done = _whole_lines(partial) if partial.exists() else {}
        todo = [r for r in responses if r.id not in done]
        if done:
            log(f"rater: {len(done)} answers already rated, {len(todo)} to go")
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            verdicts = self.judge.judge_many([r.prompt for r in chunk], [r.response for r in chunk])
            fresh = [Rating(id=f"{r.id}:final", item_id=r.id, annotator=self.judge.judge_id, role="final",
                            score=verdict_to_rank(v.label, kind=r.kind, guidance=v.guidance, rank=v.rank),
                            scenario=r.scenario, norms=r.norms,
                            provenance=Provenance(source="celm-loop", method=f"automatic:{self.spec}",
                                                  details={"verdict": v.label, "p_risk": round(v.p_risk, 4),
                                                           "refusal": v.refusal}))
                     for r, v in zip(chunk, verdicts)]
            with partial.open("a", encoding="utf-8") as fh:
                fh.writelines(jsonl_lines(fresh))
                fh.flush()
                os.fsync(fh.fileno())
            done.update({r.item_id: r for r in fresh})
        ratings = [done[r.id] for r in responses]
        return RatingOutcome(ratings=ratings, details={"judge": self.judge.judge_id, "rated_now": len(todo)})


def _whole_lines(path) -> dict[str, Rating]:
    """The ratings already judged; a last line cut by a kill is dropped (that answer is judged again)."""
    out: dict[str, Rating] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            r = Rating.model_validate(json.loads(line))
        except Exception:
            break
        out[r.item_id] = r
    return out
