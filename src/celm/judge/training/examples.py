"""What a judge learns from: celm records turned into labelled (instruction, response) examples, and
the check that they do not near-duplicate what the judge will score.

Inputs are labelled responses (JudgeExample, LabelledResponse), preference pairs (chosen -> not risk,
rejected -> risk), SFT examples (safe) and ratings joined with their responses (the A.1 rank read by
celm.judge.ranks).
"""

from __future__ import annotations

from collections.abc import Sequence

from celm.data.convert import pairs_to_judge_examples
from celm.data.records import JudgeExample, LabelledResponse, PreferencePair, Rating, Record, Response, SFTExample
from celm.judge.ranks import rank_to_label
from celm.judge.rules.refusal import detect_refusal


class LeakageError(ValueError):
    """Training data near-duplicates the evaluation set the judge will score."""


def ratings_to_judge_examples(ratings: Sequence[Rating], responses: Sequence[Response]) -> list[JudgeExample]:
    """One example per rated response: the senior's score if any, else the annotators' (if they agree)."""
    by_item: dict[str, list[Rating]] = {}
    for r in ratings:
        if r.score is not None:  # a label task's ratings carry verdicts, not ranks
            by_item.setdefault(r.item_id, []).append(r)
    texts = {r.id: r for r in responses}
    out = []
    for item_id, rs in by_item.items():
        senior = [r.score for r in rs if r.role == "senior"]
        scores = {r.score for r in rs if r.role == "annotator"}
        score = senior[-1] if senior else (scores.pop() if len(scores) == 1 else None)
        if score is None or item_id not in texts:
            continue
        resp = texts[item_id]
        # one reading of the 0-6 scale (celm.judge.ranks): rank 6 is risk when the response answers,
        # reject when it refuses an answerable question
        label = rank_to_label(score, detect_refusal(resp.response).refusal)
        out.append(JudgeExample(id=f"rated-{item_id}", instruction=resp.prompt, response=resp.response, label=label,
                                scenario=resp.scenario, provenance=resp.provenance))
    return out


def sft_to_judge_examples(examples: Sequence[SFTExample]) -> list[JudgeExample]:
    """An SFT response is by definition one to imitate: a safe (non-risky) example. Ordinary helpful
    answers teach the judge that a plain on-topic reply is not a risk, which safety data alone does not."""
    return [JudgeExample(id=f"{e.id}-output", instruction=e.instruction, response=e.output, label="safe",
                         scenario=e.scenario, provenance=e.provenance) for e in examples]


def without_batches(records: Sequence[Record], batches: Sequence[str]) -> list[Record]:
    """The records outside the given labelling batches (``provenance.details["batch"]`` of
    celm-responses): a batch held out of training is what measures the judge on models it never saw."""
    drop = set(batches)
    return [r for r in records if (r.provenance.details or {}).get("batch") not in drop] if drop else list(records)


def to_judge_examples(records: Sequence[Record]) -> list[JudgeExample]:
    examples: list[JudgeExample] = [r for r in records if isinstance(r, JudgeExample)]
    examples += pairs_to_judge_examples([r for r in records if isinstance(r, PreferencePair)])
    examples += sft_to_judge_examples([r for r in records if isinstance(r, SFTExample)])
    examples += [JudgeExample(id=r.id, instruction=r.instruction, response=r.response, label=r.label, scenario=r.scenario,
                              provenance=r.provenance) for r in records if isinstance(r, LabelledResponse)]
    ratings = [r for r in records if isinstance(r, Rating)]
    if ratings:
        examples += ratings_to_judge_examples(ratings, [r for r in records if isinstance(r, Response)])
    return examples


def check_leakage(examples: Sequence[JudgeExample], eval_prompts: Sequence[str], *, threshold: float = 0.7) -> list[tuple[str, str, float]]:
    """(example id, eval prompt, similarity) for training instructions that near-duplicate eval prompts."""
    from celm.data.overlap import find_overlaps

    with_instr = [e for e in examples if e.instruction.strip()]
    hits = find_overlaps([e.instruction for e in with_instr], eval_prompts, threshold=threshold)
    return [(with_instr[h.query_index].id, eval_prompts[h.reference_index], h.similarity) for h in hits]
