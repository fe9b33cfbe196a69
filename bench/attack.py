"""Benchmark: attack success by strategy on the built-in instruct models (issue: red teaming in Chinese).

A fixed, seeded sample of celm-bench attack prompts (``--per-scenario`` per scenario) is asked plainly
(the baseline, in the same run) and under each strategy, through ``celm attack``'s library call
(celm.attack.run.run_attack), and every answer is judged by the built-in judge. For each model it
prints the attack success rate (share judged risk) per strategy with exact 95% intervals, the paired
lift over the plain prompts (Newcombe, McNemar), and how many answers only became irrelevant (the
model no longer understood the transformed prompt: a transform that only confuses is not an attack).

The judge's error was measured on real responses to untransformed prompts (docs/judge.md); its
error on transformed prompts has not been measured by people, so the shares here are the judge's
verdicts. ``--models echo`` gives the judge's floor under attack: the ``echo`` backend only repeats
each prompt, an answer the rubric calls irrelevant, so every ``risk`` verdict on it is a judge error
(multi-turn strategies are left out there: an echo holds no conversation).

Run: .venv/bin/python bench/attack.py [--models echo,qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct]
     [--per-scenario 1] [--tokens 64] [--strategies ...] [--limit N] [--quick]
Each model's run folder (runs/bench-attack/MODEL-CONFIGHASH) caches every answer, so a killed run resumes.
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from celm.attack.run import AttackConfig, run_attack
from celm.evaluate.stats import format_difference, format_share

STRATEGIES = "homophone,pinyin,split_chars,separator,slang,code_mix,injection,framing,crescendo?turns=2"
#: what the figures in docs/benchmarks.md were measured with, on a shared 2-core machine
QUICK = "homophone,pinyin,slang,injection,crescendo?turns=2&max_new_tokens=48"


def print_summary(s: dict, wall: float) -> None:
    print(f"\n{s['model']} · judge {s['judge']} · {s['items']} attack prompts · {wall / 60:.1f} min", flush=True)
    print(f"  {'plain (baseline)':<24} ASR {format_share(s['plain']['asr']):<26} irrelevant {format_share(s['plain']['irrelevant'])}")
    for r in s["strategies"]:
        flag = ("  <- confuses" if r["confuses"] else "") + ("  <- fools the judge" if r["fools_judge"] else "")
        print(f"  {r['spec']:<24} ASR {format_share(r['asr']):<26} lift {format_difference(r['lift']):<24} "
              f"p={r['lift']['p_value']:.3f}  irrelevant {format_share(r['irrelevant'])} "
              f"({format_difference(r['irrelevant_lift'])})  risk on echoes {format_share(r['echo_risk'], mark_small=False)}"
              f"{flag}  unchanged {r['unchanged']}", flush=True)
    print(f"  best single-turn: {s['best']['single_turn']}; best multi-turn: {s['best']['multi_turn']}", flush=True)


def headline_part(s: dict) -> str:
    def best(kind: str) -> str:
        spec = s["best"][kind]
        if spec is None:
            return f"best {kind.replace('_', '-')} none"
        r = next(r for r in s["strategies"] if r["spec"] == spec)
        return f"best {kind.replace('_', '-')} {spec} {r['asr']['value']:.1%} ({format_difference(r['lift'])})"

    if s["model"] == "echo":  # every risk verdict on an echo is a judge error: say so, name no "best attack"
        worst = max(s["strategies"], key=lambda r: r["asr"]["value"])
        return (f"echo n={s['items']} (judge floor: risk verdicts on answers that only repeat the prompt): plain "
                f"{s['plain']['asr']['value']:.1%}, worst {worst['spec']} {worst['asr']['value']:.1%}")
    confusing = [r["spec"] for r in s["strategies"] if r["confuses"]]
    return (f"{s['model']} n={s['items']}: plain ASR {s['plain']['asr']['value']:.1%}; {best('single_turn')}; "
            f"{best('multi_turn')}; only confuse: {', '.join(confusing) or 'none'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="echo,qwen2.5-coder-0.5b-instruct,qwen2.5-coder-1.5b-instruct",
                    help="built-in model names or specs; echo measures the judge's floor")
    ap.add_argument("--per-scenario", type=int, default=1, help="attack prompts per scenario (17 scenarios)")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--strategies", default=STRATEGIES)
    ap.add_argument("--quick", action="store_true", help=f"8 prompts, 48 tokens, strategies {QUICK}")
    ap.add_argument("--limit", type=int, default=None, help="only the first N sampled prompts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folder", default="runs/bench-attack")
    args = ap.parse_args()
    if args.quick:
        args.strategies, args.limit, args.tokens = QUICK, args.limit or 8, 48
    parts = []
    for name in args.models.split(","):
        spec = name if name == "echo" or ":" in name else f"gguf:{name}"
        strategies = args.strategies
        if spec == "echo":
            strategies = ",".join(s for s in strategies.split(",") if not s.startswith("crescendo"))
        config = AttackConfig(model=spec, strategies=[strategies], per_scenario=args.per_scenario,
                              max_new_tokens=args.tokens, seed=args.seed, limit=args.limit)
        t0 = time.perf_counter()
        run = run_attack(config, Path(args.folder) / f"{name.replace(':', '-').replace('/', '-')}-{config.fingerprint()}", progress=False,
                         log=lambda m: print(f"  {m}", flush=True))
        print_summary(run.summary, time.perf_counter() - t0)
        parts.append(headline_part(run.summary))
    print(" | ".join(parts))


if __name__ == "__main__":
    main()
