"""Judge a list of Responses, in batches, with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence

from celm.data.records import JudgementRecord, Response
from celm.judge.base import Judge


def judge_responses(responses: Sequence[Response], judge: Judge, *, batch: int = 512, progress: bool = True) -> list[JudgementRecord]:
    from rich.progress import Progress

    # a slow judge (a chat model reading each pair) moves the bar in smaller steps; a judge spread over
    # Ray workers (celm.scale.judge.RayJudge) wants a chunk for every worker at once
    batch = min(batch, getattr(judge, "progress_every", batch))
    batch = max(batch, getattr(judge, "preferred_batch", 0))
    out: list[JudgementRecord] = []
    with Progress(disable=not progress) as bar:
        task = bar.add_task("judging", total=len(responses))
        for i in range(0, len(responses), batch):
            chunk = responses[i:i + batch]
            verdicts = judge.judge_many([r.prompt for r in chunk], [r.response for r in chunk])
            for r, v in zip(chunk, verdicts):
                out.append(JudgementRecord(
                    id=r.id, item_id=r.item_id, scenario=r.scenario, norms=r.norms, provenance=r.provenance,
                    kind=r.kind, with_norms=r.with_norms, **v.model_dump(),
                ))
            bar.advance(task, len(chunk))
    return out
