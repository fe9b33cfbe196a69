"""``celm attack``: each sampled attack prompt asked plainly and under each strategy, every answer judged,
and the attack success rate (share judged ``risk``) compared on the same prompts.

A run folder holds ``config.json``, ``items.jsonl`` (every attacked item, the original beside it),
``responses.jsonl``, ``judgements.jsonl``, ``attack.json`` (the figures), ``report.md``, ``report.html``
and ``cache.sqlite`` (every model answer, attacker turns included, so a killed run resumes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from celm.data.records import EvalItem, JudgementRecord, Response
from celm.judge import DEFAULT_JUDGE, JUDGE_HELP
from celm.models.registry import DEFAULT_MODEL, SPEC_HELP, without_options
from celm.settings import setting

#: the arm of the prompts as asked, against which every strategy is compared
PLAIN = "plain"
DEFAULT_STRATEGIES = ["homophone", "pinyin", "split_chars", "separator", "slang", "injection"]
STRATEGY_HELP = ("attack strategies, comma-separated or repeated; '+' chains them, options after '?': homophone, "
                 "pinyin?mode=initials, split_chars, traditional, separator, slang, code_mix, rephrase?style=classical, "
                 "injection, framing, payload_split, completion, few_shot, encoding?scheme=caesar, refusal_suppression, "
                 "crescendo?turns=3 (see `celm attack --list`)")


@dataclass
class AttackConfig:
    """What ``celm attack`` runs; the command's options are made from these fields (celm.cli.attack)."""

    model: str = setting(DEFAULT_MODEL, SPEC_HELP, "--model", "-m")
    strategies: list[str] = setting(list(DEFAULT_STRATEGIES), STRATEGY_HELP, "--strategy", "-s")
    benchmarks: list[str] = setting(["celm-bench"], "registered source or a file of eval items; repeatable "
                                    "(only its attack prompts are used)", "--benchmark", "-b")
    judge: str = setting(DEFAULT_JUDGE, JUDGE_HELP, "--judge", "-j")
    attacker: str | None = setting(None, "the attacker model of multi-turn strategies (default: the embedded chat "
                                   "model); the same as crescendo?attacker=SPEC")
    per_scenario: int = setting(2, "attack prompts per scenario in the sample", "--per-scenario")
    full: bool = setting(False, "every attack prompt (default: a stratified sample)", "--full")
    limit: int | None = setting(None, "only the first N sampled prompts")
    system_prompt: str | None = setting(None, "system prompt for every item")
    max_new_tokens: int = setting(64, "longest response in tokens")
    temperature: float = setting(0.0, "sampling temperature; 0 = greedy")
    seed: int = setting(0, "seed of the sample, the transforms and generation")
    concurrency: int = setting(8, "requests in flight (remote models)")

    def __post_init__(self) -> None:
        from celm.attack import parse_strategies

        self.strategies = parse_strategies(self.strategies)
        if not self.strategies:
            raise ValueError("name at least one attack strategy")
        if self.attacker:
            self.strategies = [_with_attacker(s, self.attacker) for s in self.strategies]

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def _with_attacker(spec: str, attacker: str) -> str:
    from celm.attack import get_strategy

    if get_strategy(spec).multi_turn and "attacker=" not in spec:
        return f"{spec}{'&' if '?' in spec else '?'}attacker={attacker}"
    return spec


@dataclass
class AttackRun:
    folder: Path
    config: AttackConfig
    items: dict[str, list[EvalItem]]  # arm (plain or a strategy spec) -> items, in the same order
    responses: dict[str, list[Response]]
    judgements: dict[str, list[JudgementRecord]]
    summary: dict = field(default_factory=dict)


def default_folder(config: AttackConfig) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in without_options(config.model))[:40]
    return Path("runs") / f"attack-{slug}-{config.fingerprint()}"


def sample_attacks(config: AttackConfig) -> list[EvalItem]:
    from celm.evaluate.run import load_items, stratified_sample

    items = [i for i in load_items(config.benchmarks) if i.kind == "attack"]
    if not config.full:
        items = stratified_sample(items, config.per_scenario, 0, config.seed)
    if config.limit:
        items = items[: config.limit]
    if not items:
        raise ValueError(f"no attack prompts in {', '.join(config.benchmarks)}")
    return items


def run_attack(config: AttackConfig, folder: str | Path | None = None, *, progress: bool = True, log=print) -> AttackRun:
    """Plain and attacked prompts through the model and the judge; figures and reports in ``folder``."""
    from celm.attack import apply_attack
    from celm.attack.report import summarize, write_reports
    from celm.data.io import write_json, write_records
    from celm.evaluate.run import versions
    from celm.judge import get_judge
    from celm.judge.score import judge_responses
    from celm.models import GenerationParams, get_model
    from celm.models.cache import ResponseCache
    from celm.models.runner import generate_responses

    folder = Path(folder or default_folder(config))
    folder.mkdir(parents=True, exist_ok=True)
    plain = sample_attacks(config)
    write_json(folder / "config.json", {"config": asdict(config), "versions": versions(), "items": len(plain),
                                        "item_ids": [i.id for i in plain]})
    params = GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed)
    model = get_model(config.model)
    cache = ResponseCache(folder / "cache.sqlite")
    arms: dict[str, list[EvalItem]] = {PLAIN: plain}
    responses: dict[str, list[Response]] = {}
    try:
        for spec in config.strategies:
            arms[spec] = apply_attack(plain, spec, seed=config.seed, target=model, params=params,
                                      system_prompt=config.system_prompt, cache=cache)
        write_records(folder / "items.jsonl", [i for arm in arms.values() for i in arm])
        for arm, items in arms.items():
            outcome = generate_responses(items, model, system_prompt=config.system_prompt, params=params, cache=cache,
                                         concurrency=config.concurrency, progress=progress, description=f"generating ({arm})")
            if outcome.failed:
                raise RuntimeError(f"{arm}: {len(outcome.failed)} item(s) failed to generate (first: "
                                   f"{outcome.failed[0].item_id}: {outcome.failed[0].error}); run again to retry them")
            responses[arm] = outcome.responses
            log(f"{arm}: {len(outcome.responses)} responses ({outcome.cached} cached, {outcome.generated} generated)")
    finally:
        cache.close()
    write_records(folder / "responses.jsonl", [r for rs in responses.values() for r in rs])
    judge = get_judge(config.judge)
    judgements = {arm: judge_responses(rs, judge, progress=progress) for arm, rs in responses.items()}
    write_records(folder / "judgements.jsonl", [j for js in judgements.values() for j in js])
    # the judge's floor on this run's own prompts: its verdict on an answer that only repeats the prompt
    # (irrelevant by the rubric), so a strategy whose template alone reads as risky is not called an attack
    echoes = {arm: [v.label for v in judge.judge_many([r.prompt for r in rs], [i.prompt for i in arms[arm]])]
              for arm, rs in responses.items()}
    summary = summarize(arms, judgements, model=responses[PLAIN][0].model, judge=judgements[PLAIN][0].judge_id,
                        benchmarks=config.benchmarks, echoes=echoes)
    write_json(folder / "attack.json", summary)
    write_reports(folder, summary, arms, responses, judgements)
    return AttackRun(folder, config, arms, responses, judgements, summary)
