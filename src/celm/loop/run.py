"""``celm loop run``: rounds of generate → rate → pair → SFT → DPO → evaluate, resumable at every step.

Round 0 evaluates the starting model. Round K (1..rounds) takes the next new instructions of the pool,
lets the current model answer each several times (some with the safety system prompt: context
distillation), has the rater rank every answer 0-6, pairs them (ties discarded), trains SFT on the
answers ranked 0-1 and then DPO on the pairs (the paper's appendix A.3 settings unless the YAML says
otherwise), and evaluates the result; round K+1 starts from that model.

Each step writes its files, then marks itself done in ``round-K/steps.json`` (celm.loop.folder).
Run the same command again after a crash or ``kill -9``: done steps are skipped, and the step that was
cut short resumes from its own progress (generation cache, judged chunks, the app's batch, training
checkpoints, the eval run's cache), so no model is asked the same thing twice.
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from celm.data.records import EvalItem, Instruction, Response
from celm.loop.config import LoopConfig
from celm.loop.folder import LoopFolder, RoundFolder

Promptable = EvalItem | Instruction


@dataclass
class LoopResult:
    folder: Path
    rounds: list[dict]  # rounds.json's content: one summary per round (celm.loop.report)


def with_options(spec: str, options: str) -> str:
    """A model spec with the loop's backend options appended (``hf:PATH?a=1&b=2``)."""
    if not options:
        return spec
    return f"{spec}{'&' if '?' in spec else '?'}{options}"



def load_pool(config: LoopConfig, *, log: Callable[[str], None] = print) -> list[Promptable]:
    """The instruction pool in its seeded order, without the evaluation's prompts (held out) or repeats."""
    from celm.data.shapes import read_prompts
    from celm.data.sources import load_file_or_source
    from celm.data.text import normalize_text
    from celm.evaluate.run import load_items

    items: list[Promptable] = []
    for spec in config.pool.sources:
        recs = load_file_or_source(spec, reader=lambda path: read_prompts(path)[0])
        bad = [r for r in recs if not isinstance(r, (EvalItem, Instruction))]
        if bad:
            raise ValueError(f"pool source {spec}: holds {type(bad[0]).__name__} records, not prompts")
        items += recs
    held_out = {normalize_text(i.prompt) for i in load_items(config.eval.benchmarks)}
    kept, seen, dropped_eval = [], set(), 0
    for it in sorted(items, key=lambda i: i.id):
        if isinstance(it, EvalItem) and it.kind not in config.pool.kinds:
            continue
        key = normalize_text(it.primary_text())
        if key in held_out:
            dropped_eval += 1
            continue
        if key in seen or it.id in seen:
            continue
        seen |= {key, it.id}
        kept.append(it)
    random.Random(config.seed).shuffle(kept)
    if dropped_eval:
        log(f"pool: {dropped_eval} instructions left out because the evaluation uses them")
    need = config.rounds * config.pool.per_round
    if len(kept) < need:
        raise ValueError(f"the pool has {len(kept)} usable instructions; {config.rounds} rounds of "
                         f"{config.pool.per_round} need {need} (add sources or lower pool.per_round)")
    return kept


def run_loop(config: LoopConfig, folder: str | Path, *, progress: bool = True, log: Callable[[str], None] = print) -> LoopResult:
    from celm.loop.report import write_loop_report

    lf = LoopFolder(folder)
    lf.start(config)
    pool = load_pool(config, log=log)
    model = config.model
    zero = lf.round(0)
    if not zero.done("eval"):
        _evaluate(config, zero, model, progress=progress, log=log)
    rows: list[dict] = []
    for k in range(1, config.rounds + 1):
        rf = lf.round(k)
        model = _round(config, rf, model, pool[(k - 1) * config.pool.per_round: k * config.pool.per_round],
                       progress=progress, log=log)
        rows = write_loop_report(lf)  # after every round, so a long loop can be read while it runs
    return LoopResult(lf.path, rows)


def _round(config: LoopConfig, rf: RoundFolder, model: str, new: list[Promptable], *, progress: bool, log) -> str:
    from celm.data.io import read_records, write_records

    log(f"round {rf.number}: starting from {model}")
    if not rf.done("instructions"):
        write_records(rf.instructions_jsonl, new)
        rf.mark("instructions", n=len(new), kinds=dict(Counter(getattr(i, "kind", "attack") for i in new)))
    items = read_records(rf.instructions_jsonl)
    if not rf.done("responses"):
        _generate(config, rf, model, items, progress=progress, log=log)
    responses = read_records(rf.responses_jsonl, "response")
    if not rf.done("ratings"):
        _rate(config, rf, responses, log=log)
    if not rf.done("pairs"):
        _pair(config, rf, responses)
    model = _train(config, rf, "sft", model, log=log)
    model = _train(config, rf, "dpo", model, log=log)
    if not rf.done("eval"):
        _evaluate(config, rf, model, progress=progress, log=log)
    return model


def _generate(config: LoopConfig, rf: RoundFolder, model_spec: str, items, *, progress: bool, log) -> None:
    from celm.data.io import write_records
    from celm.models import GenerationParams, get_model
    from celm.models.cache import ResponseCache
    from celm.models.runner import generate_responses

    s = config.responses
    variants = [(f"s{j}", None) for j in range(s.samples)] + [(f"d{j}", s.system_prompt) for j in range(s.distilled)]
    spec = with_options(model_spec, config.model_options)
    model = get_model(spec)
    cache = ResponseCache(rf.cache_sqlite)
    t0, answers, generated, cached = time.perf_counter(), [], 0, 0
    try:
        for j, (variant, system) in enumerate(variants):
            # each variant its own seed: several different answers to one instruction, reproducibly
            params = GenerationParams(max_new_tokens=s.max_new_tokens, temperature=s.temperature, top_p=s.top_p,
                                      seed=config.seed * 10_000 + rf.number * 100 + j)
            outcome = generate_responses(items, model, system_prompt=system, params=params, cache=cache,
                                         progress=progress, description=f"round {rf.number} answers ({variant})")
            if outcome.failed:
                raise RuntimeError(f"{len(outcome.failed)} answer(s) failed (first {outcome.failed[0].item_id}: "
                                   f"{outcome.failed[0].error}); run the loop again to retry them")
            generated, cached = generated + outcome.generated, cached + outcome.cached
            answers += [r.model_copy(update={"id": f"{r.item_id}~{variant}"}) for r in outcome.responses]
    finally:
        cache.close()
        del model
        gc.collect()
    write_records(rf.responses_jsonl, answers)
    rf.mark("responses", n=len(answers), generated=generated, cached=cached, model=spec,
            variants=[v for v, _ in variants], seconds=round(time.perf_counter() - t0, 1))
    log(f"round {rf.number}: {len(answers)} answers ({generated} generated, {cached} from the cache)")


def _rate(config: LoopConfig, rf: RoundFolder, responses: list[Response], *, log) -> None:
    from celm.data.io import write_records
    from celm.loop.raters import get_rater

    rater = get_rater(config.rater)
    t0 = time.perf_counter()
    outcome = rater.rate(responses, rf, log=log)
    write_records(rf.ratings_jsonl, outcome.ratings)
    ranks = outcome.ranks()
    rf.mark("ratings", rater=rater.spec, rater_kind=rater.kind, n=len(ranks),
            ranks={str(k): v for k, v in sorted(Counter(ranks.values()).items())}, agreement=outcome.agreement,
            details=outcome.details, seconds=round(time.perf_counter() - t0, 1))
    log(f"round {rf.number}: {len(ranks)} answers ranked by {rater.description}")


def _pair(config: LoopConfig, rf: RoundFolder, responses: list[Response]) -> None:
    from celm.data.io import read_records, write_records
    from celm.data.pairing import RankedResponse, rank_pairs, top_ranked_sft

    ratings = read_records(rf.ratings_jsonl, "rating")
    ranks = {r.item_id: r.score for r in ratings if r.role == "final"}
    kind = rf.done("ratings")["rater_kind"]
    ranked = [RankedResponse(id=r.id, instruction=r.prompt, response=r.response, rank=ranks[r.id], scenario=r.scenario,
                             norms=tuple(r.norms), system=r.system_prompt, details={"round": rf.number})
              for r in responses if r.id in ranks and r.response.strip()]
    method = "human-ranked" if kind == "human" else "automatic-ranked"
    pairing = rank_pairs(ranked, source=f"celm-loop:round-{rf.number}", method=method)
    sft = top_ranked_sft(ranked, source=f"celm-loop:round-{rf.number}", method=method)
    write_records(rf.pairs_jsonl, pairing.pairs)
    write_records(rf.sft_jsonl, sft)
    rf.mark("pairs", pairs=len(pairing.pairs), ties=pairing.ties, duplicates=pairing.duplicates,
            instructions=pairing.instructions, sft=len(sft),
            distilled_sft=sum(bool(e.provenance.details.get("distilled")) for e in sft))


def _train(config: LoopConfig, rf: RoundFolder, stage: str, model: str, *, log) -> str:
    """One training stage; returns the model the next step starts from (the input when skipped)."""
    done = rf.done(stage)
    if done:
        return done["model"]
    settings = config.sft if stage == "sft" else config.dpo
    data = rf.sft_jsonl if stage == "sft" else rf.pairs_jsonl
    counts = rf.done("pairs")
    rows = counts["sft"] if stage == "sft" else counts["pairs"]
    if not settings.enabled or not rows:
        reason = "disabled in loop.yaml" if not settings.enabled else (
            "no answer was ranked 0-1" if stage == "sft" else "no pairs (every answer tied)")
        log(f"round {rf.number}: {stage} skipped: {reason}")
        rf.mark(stage, skipped=reason, model=model, start_model=model)
        return model
    from celm.models.registry import trained_spec
    from celm.train.config import load_config
    from celm.train.recipes import train

    overrides = {"save_steps": 25, **settings.settings}  # a killed run loses at most 25 steps
    cfg = load_config(overrides=overrides, stage=stage, model=model, data=[str(data)], output_dir=rf.path / stage,
                      merge=True)
    result = train(cfg, log=lambda m: log(f"round {rf.number} {stage}: {m}"))
    trained = trained_spec(model, str(result.merged_dir))
    rf.mark(stage, model=trained, start_model=model, rows=result.manifest["rows"], steps=result.extra.get("steps"),
            loss_first=result.losses[0] if result.losses else None, loss_last=result.losses[-1] if result.losses else None,
            learning_rate=cfg.learning_rate, epochs=cfg.num_train_epochs, seconds=round(result.runtime_s, 1))
    gc.collect()
    return trained


def _evaluate(config: LoopConfig, rf: RoundFolder, model: str, *, progress: bool, log) -> None:
    from celm.evaluate.registry import figure, get_metric
    from celm.evaluate.run import EvalConfig, run_eval

    e = config.eval
    cfg = EvalConfig(model=with_options(model, config.model_options), benchmarks=e.benchmarks, judge=e.judge,
                     attacks_per_scenario=e.attacks_per_scenario, benign_per_scenario=e.benign_per_scenario,
                     max_new_tokens=e.max_new_tokens, seed=e.seed, concurrency=1)
    t0 = time.perf_counter()
    run = run_eval(cfg, rf.eval_dir, progress=progress, log=lambda m: log(f"round {rf.number} eval: {m}"))
    arm = run.log.arms[run.log.first_arm]
    shares = {name: figure(arm, get_metric(name), "benign" if name == "over_refusal" else "attacks")
              for name in ("acc_eval", "helpful_safe", "over_refusal")}
    rf.mark("eval", model=model, **{name: s.model_dump() if s is not None else None for name, s in shares.items()},
            seconds=round(time.perf_counter() - t0, 1))
    log(f"round {rf.number}: Acc_eval {shares['acc_eval'].value * 100:.1f}% on {shares['acc_eval'].n} attacks")
    gc.collect()
