"""Judging on Ray: a judge spec served by many actors, answering in input order.

``RayJudge`` is a ``Judge``: ``judge_responses`` and ``run_eval`` use it unchanged. Its ``judge_id``
is the served judge's (asked of a worker), so judgements written with and without Ray are the same
records, and a run folder's earlier judgements are reused either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from celm.judge.base import Judge, Judgement
from celm.scale.actors import JudgeWorker, OnPool, WorkerPool, default_workers

#: pairs per call to a judge worker: big enough to batch well, small enough that a lost worker
#: costs little and every worker gets a share
CHUNK = 256


class RayJudge(OnPool, Judge):
    """``spec`` (or a zero-argument factory returning a judge) on ``workers`` Ray actors, one CPU each
    (default: one per CPU of the cluster). Use it as a context manager, or call ``close()``."""

    def __init__(self, spec: str | Callable[[], Judge] | None = None, *, address: str | None = "local",
                 workers: int | None = None, chunk_size: int = CHUNK, max_restarts: int | None = None):
        from celm.judge import DEFAULT_JUDGE
        from celm.scale.actors import MAX_RESTARTS
        from celm.scale.cluster import connect

        ray = connect(address)
        self.spec = spec or DEFAULT_JUDGE
        self.pool = WorkerPool(ray, JudgeWorker, self.spec, workers=workers or default_workers(ray),
                               max_restarts=MAX_RESTARTS if max_restarts is None else max_restarts)
        self.judge_id = self.pool.ensure(1)[0].model_id
        self.chunk_size = max(1, chunk_size)

    @property
    def preferred_batch(self) -> int:
        """How many pairs judge_responses should hand over at once: a chunk for every worker."""
        return self.chunk_size * self.pool.workers

    def judge_many(self, instructions: Sequence[str], responses: Sequence[str]) -> list[Judgement]:
        instructions, responses = list(instructions), list(responses)
        if len(instructions) != len(responses):
            raise ValueError(f"{len(instructions)} instructions for {len(responses)} responses")
        # Small inputs are spread over every worker rather than sent whole to one.
        size = min(self.chunk_size, max(1, -(-len(responses) // self.pool.workers)))
        starts = list(range(0, len(responses), size))
        out: list[list[Judgement]] = [[] for _ in starts]
        for i, verdicts in self.pool.stream("judge", [(instructions[s:s + size], responses[s:s + size]) for s in starts]):
            out[i] = verdicts
        return [v for chunk in out for v in chunk]
