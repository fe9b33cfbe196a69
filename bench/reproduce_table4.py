"""Benchmark: the paper's table 4 in miniature (issue: training).

Start from the embedded Gemma 3 270M base model and LoRA-SFT it on
  (a) D^h_SFT: helpfulness data only (LLaMA-Factory's alpaca_zh_demo), and
  (b) D^h+c_SFT: the same helpfulness data plus safety data (JADE 3.0's safe, helpful answers),
optionally followed by DPO (--dpo: D^h_RM = dpo_zh_demo; D^h+c_RM adds JADE 3.0's pairs), then
evaluate each model, and the base model, on held-out prompts: `celm eval` on the bundled CELM
red-teaming benchmark (none of it is training data; checked below) with the built-in judge, and
log-likelihood multiple choice on a SafetyBench-zh sample standing in for C-Value's MC test.
The figure to report: the Acc_eval gain of (b) over (a), with Newcombe's paired 95% interval.

By labels too: where celm-responses (docs/real-responses.md) holds labels for these very responses
(the same prompt and the same response text), the script also prints each arm's Acc_eval and helpful
& safe by the labels beside the judge's on the same responses, and the gain both ways. The labels
were made for the run recorded in docs/benchmarks.md; responses that differ (another base model,
other sizes) have none, and the section says so.

Run: .venv/bin/python bench/reproduce_table4.py            (about 45 minutes on 2 CPU cores)
     .venv/bin/python bench/reproduce_table4.py --quick    (a smoke run of a few minutes)
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--helpful", type=int, default=240, help="D^h SFT examples")
    ap.add_argument("--safety", type=int, default=240, help="D^c SFT examples added in (b)")
    ap.add_argument("--pairs", type=int, default=48, help="preference pairs per side for --dpo")
    ap.add_argument("--attacks-per-scenario", type=int, default=8)
    ap.add_argument("--benign-per-scenario", type=int, default=2)
    ap.add_argument("--mc", type=int, default=200, help="SafetyBench-zh items (0 to skip)")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--dpo", action="store_true", help="also DPO after each SFT model (paper rows 3-4)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check the pipeline")
    ap.add_argument("--output", type=Path, default=Path("runs/bench/table4"))
    ap.add_argument("--base", default="gguf:gemma3-270m", help="base model: gguf:gemma3-270m (default), "
                    "gguf:qwen2.5-coder-0.5b-instruct (about 2x the time per step), hf:PATH on a GPU")
    args = ap.parse_args()
    if args.quick:
        args.helpful, args.safety, args.pairs, args.attacks_per_scenario, args.benign_per_scenario, args.mc = 8, 8, 4, 1, 0, 20

    from celm.data.sources import load_source
    from celm.evaluate.mc import evaluate_mc
    from celm.evaluate.metrics import flags
    from celm.evaluate.run import EvalConfig, run_eval
    from celm.evaluate.stats import paired_difference
    from celm.judge import get_judge
    from celm.judge.training.examples import check_leakage, sft_to_judge_examples
    from celm.models import get_model
    from celm.train.config import load_config
    from celm.train.recipes import train

    t_start = time.perf_counter()
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    eval_cfg = dict(attacks_per_scenario=args.attacks_per_scenario, benign_per_scenario=args.benign_per_scenario,
                    max_new_tokens=64, concurrency=1)
    # Held-out check: no safety training instruction near-duplicates an evaluation prompt.
    from celm.data.bundled import load_benchmark
    from celm.data.convert import pairs_to_sft

    safety_sft = pairs_to_sft(load_source("jade-v3"))
    leaks = check_leakage(sft_to_judge_examples(safety_sft), [i.prompt for i in load_benchmark()])
    print(f"leakage check: {len(leaks)} of {len(safety_sft)} safety instructions near-duplicate an eval prompt")

    common = dict(model=args.base, num_train_epochs=1, max_length=args.max_length, save_steps=10_000,
                  logging_steps=1, merge=True, seed=0)
    settings = {k: v for k, v in load_config(stage="sft", **common).model_dump(mode="json").items()
                if k in ("per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "num_train_epochs",
                         "lr_scheduler_type", "warmup_ratio", "lora_r", "lora_alpha", "lora_target", "max_length")}
    print(f"settings: {json.dumps(settings)}; D^h {args.helpful}, D^c {args.safety}; "
          f"eval {args.attacks_per_scenario} attacks + {args.benign_per_scenario} benign per scenario; MC {args.mc}")

    runs: list[tuple[str, str, str]] = [("base model", "×", args.base)]
    log = lambda m: print(f"  {m}", flush=True)  # noqa: E731
    for tag, sft_data in (("h", dict(data=[], safety_count=0)), ("h+c", dict(data=["jade-v3"], safety_count=args.safety))):
        t0 = time.perf_counter()
        res = train(load_config(stage="sft", output_dir=out / f"sft-{tag}", helpful_data=["alpaca-zh-demo"],
                                helpful_count=args.helpful, **sft_data, **common), log=log)
        print(f"SFT D^{tag}: {res.manifest['rows']} rows, {res.extra['steps']} steps, loss {res.losses[0]:.3f} -> "
              f"{res.losses[-1]:.3f}, {time.perf_counter() - t0:.0f} s", flush=True)
        runs.append((f"D^{tag}_SFT", "×", f"hf:{res.merged_dir}?repetition_penalty=1.3&batch_size=16"))
        if args.dpo:
            rm_data = dict(data=[], safety_count=0) if tag == "h" else dict(data=["jade-v3"], safety_count=args.pairs)
            t0 = time.perf_counter()
            dres = train(load_config(stage="dpo", output_dir=out / f"dpo-{tag}", helpful_data=["dpo-zh-demo"],
                                     helpful_count=args.pairs, **rm_data,
                                     **{**common, "model": f"hf:{res.merged_dir}"}), log=log)
            print(f"DPO D^{tag}: {dres.manifest['rows']} pairs, loss {dres.losses[0]:.3f} -> {dres.losses[-1]:.3f}, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            runs.append((f"D^{tag}_SFT", f"D^{tag}_RM", f"hf:{dres.merged_dir}?repetition_penalty=1.3&batch_size=16"))

    mc_items = [i for i in load_source("safetybench") if i.answer is not None]
    import random

    mc_items = random.Random(0).sample(mc_items, min(args.mc, len(mc_items))) if args.mc else []
    rows, judged, answered, verdicts = [], {}, {}, {}
    for sft, rm, spec in runs:
        t0 = time.perf_counter()
        run = run_eval(EvalConfig(model=spec, **eval_cfg), out / "eval" / f"{sft}-{rm}".replace("^", "").replace("×", "none"),
                       progress=False, log=lambda *_: None)
        judged[(sft, rm)] = [j.label for j in sorted(run.judgements["base"], key=lambda j: j.item_id) if j.kind == "attack"]
        answered[(sft, rm)] = {r.item_id: r for r in run.responses["base"]}
        verdicts[(sft, rm)] = {j.item_id: j.label for j in run.judgements["base"]}
        overall = run.metrics["arms"]["base"]["overall"]
        mc = evaluate_mc(mc_items, get_model(spec), method="loglik", progress=False) if mc_items else None
        rows.append((sft, rm, overall, run.metrics["arms"]["base"]["china_centric"], mc))
        print(f"evaluated {sft} / {rm}: {time.perf_counter() - t0:.0f} s", flush=True)

    def pct(block):
        return f"{block['value'] * 100:5.1f} [{block['low'] * 100:4.1f}, {block['high'] * 100:4.1f}]"

    print(f"\nTable 4 (miniature): {args.base}, LoRA; held-out CELM prompts judged by {get_judge('builtin').judge_id}")
    print(f"{'SFT data':<12}{'RM data':<10}{'SafetyBench-zh MC (C-Value style)':<36}{'CELM Acc_eval':<22}{'China-centric':<22}"
          f"{'Helpful & safe':<22}{'Irrelevant':<22}")
    for sft, rm, overall, china, mc in rows:
        mc_s = pct(mc["accuracy"]) if mc else "–"
        print(f"{sft:<12}{rm:<10}{mc_s:<36}{pct(overall['acc_eval']):<22}{pct(china['acc_eval']):<22}"
              f"{pct(overall['helpful_safe']):<22}{pct(overall['irrelevant']):<22}")
    h, hc = judged[("D^h_SFT", "×")], judged[("D^h+c_SFT", "×")]
    gain = paired_difference(flags(h, "acc_eval"), flags(hc, "acc_eval"))
    helpful_gain = paired_difference(flags(h, "helpful_safe"), flags(hc, "helpful_safe"))
    print(f"helpful & safe, D^h+c_SFT over D^h_SFT: {helpful_gain.diff * 100:+.1f} pp "
          f"[95% CI {helpful_gain.low * 100:+.1f}, {helpful_gain.high * 100:+.1f}]")
    summary = {"settings": settings, "rows": [{"sft": s, "rm": r, "acc_eval": o["acc_eval"], "china_centric": c["acc_eval"],
                                               "helpful_safe": o["helpful_safe"], "irrelevant": o["irrelevant"],
                                               "mc": m["accuracy"] if m else None} for s, r, o, c, m in rows],
               "gain_pp": gain.diff * 100, "gain_ci_pp": [gain.low * 100, gain.high * 100], "n": gain.n,
               "helpful_safe_gain_pp": helpful_gain.diff * 100,
               "helpful_safe_gain_ci_pp": [helpful_gain.low * 100, helpful_gain.high * 100],
               "minutes": (time.perf_counter() - t_start) / 60}
    summary["by_labels"] = by_labels(answered, verdicts, ("D^h_SFT", "×"), ("D^h+c_SFT", "×"))
    (out / "table4.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\ntotal {summary['minutes']:.1f} min on {os.cpu_count()} CPU cores; results in {out}/table4.json")
    print(f"safety gain of D^h+c_SFT over D^h_SFT: {gain.diff * 100:+.1f} pp Acc_eval "
          f"[95% CI {gain.low * 100:+.1f}, {gain.high * 100:+.1f}] on {gain.n} held-out attack prompts")


def by_labels(answered: dict, verdicts: dict, before: tuple, after: tuple) -> dict | None:
    """Each arm by the project's labels (celm-responses rows for the same prompt and response text)
    beside the judge on the same responses, and the gain of ``after`` over ``before`` both ways."""
    from celm.data.sources import load_source
    from celm.evaluate.metrics import flags
    from celm.evaluate.stats import format_difference, format_share, paired_difference, share

    try:
        labelled = load_source("celm-responses")
    except Exception as exc:  # the set joins public prompts from ../shared; without them it loads nothing
        print(f"\nby labels: celm-responses could not be loaded ({str(exc).splitlines()[0]})")
        return None
    labels = {(r.item_id, r.response): r.label for r in labelled}
    print("\nBy the project's labels (celm-responses; LLM annotators, two passes + adjudication) beside the judge")
    out, per_arm = {}, {}
    for arm, responses in answered.items():
        got = {i: labels[(i, r.response)] for i, r in responses.items() if r.kind == "attack" and (i, r.response) in labels}
        per_arm[arm] = got
        n_attacks = sum(r.kind == "attack" for r in responses.values())
        if not got:
            print(f"  {arm[0]:<12}{arm[1]:<10}no labelled responses (of {n_attacks} attacks)")
            continue
        judge = [verdicts[arm][i] for i in got]
        row = {m: {"labels": share(flags(got.values(), m)).to_dict(), "judge": share(flags(judge, m)).to_dict()}
               for m in ("acc_eval", "helpful_safe")}
        out[f"{arm[0]} / {arm[1]}"] = {"n": len(got), "of": n_attacks, **row,
                                       "agreement": sum(verdicts[arm][i] == lab for i, lab in got.items()) / len(got)}
        print(f"  {arm[0]:<12}{arm[1]:<10}{len(got)}/{n_attacks} attacks labelled: Acc_eval labels "
              f"{format_share(row['acc_eval']['labels'])}, judge {format_share(row['acc_eval']['judge'])}; helpful & safe "
              f"labels {format_share(row['helpful_safe']['labels'])}, judge {format_share(row['helpful_safe']['judge'])}; "
              f"same verdict {out[f'{arm[0]} / {arm[1]}']['agreement']:.0%}")
    ids = sorted(set(per_arm.get(before, {})) & set(per_arm.get(after, {})))
    if ids:
        for m in ("acc_eval", "helpful_safe"):
            lab = paired_difference(flags((per_arm[before][i] for i in ids), m), flags((per_arm[after][i] for i in ids), m))
            jud = paired_difference(flags((verdicts[before][i] for i in ids), m), flags((verdicts[after][i] for i in ids), m))
            out[f"gain_{m}"] = {"labels": lab.to_dict(), "judge": jud.to_dict(), "n": len(ids)}
            print(f"  gain of {after[0]} over {before[0]}, {m}: by labels {format_difference(lab.to_dict())}, "
                  f"by the judge {format_difference(jud.to_dict())} (n={len(ids)} attacks labelled in both)")
    return out


if __name__ == "__main__":
    main()
