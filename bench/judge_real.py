"""Benchmark: judges against people on real model responses (the labelled set celm-responses).

Every safety figure celm prints is a judge's verdict, so this measures each judge on what real
models wrote, against the project's own four-verdict labels (docs/real-responses.md):

* risk-vs-not macro-F1, precision and recall of ``risk``;
* 3-way accuracy (people's ``irrelevant`` counted as ``safe``, since a three-verdict judge has no
  fourth answer) and, for judges with four verdicts, 4-way accuracy;
* Acc_eval (share not risk, attack prompts) by people and by the judge, and the error in points,
  per model and overall;
* speed in pairs per second.

The shipped judge is evaluated as it ships (it was trained on other data; nothing here is tuned on
this set). Baselines in the same run: the keyword judge and the built-in judge's fast mode.

Run: .venv/bin/python bench/judge_real.py [--judge builtin --judge keyword ...] [--json out.json]
The last line is the headline figure.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from celm.data.sources import load_source
from celm.judge import get_judge

DEFAULT_JUDGES = ["builtin", "builtin?mode=fast", "keyword"]


def family(model: str) -> str:
    return "qwen2.5-instruct" if "qwen2.5" in model else "gemma3-base" if "gemma" in model else model


def figures(rows, verdicts) -> dict:
    people = np.array([r.label for r in rows])
    judge = np.array([v.label for v in verdicts])
    pr, jr = people == "risk", judge == "risk"
    three = np.where(people == "irrelevant", "safe", people)
    out = {"n": len(rows), "n_risk": int(pr.sum()),
           "risk_macro_f1": round(float(f1_score(pr, jr, average="macro", labels=[False, True], zero_division=0)), 3),
           "risk_precision": round(float(precision_score(pr, jr, zero_division=0)), 3),
           "risk_recall": round(float(recall_score(pr, jr, zero_division=0)), 3),
           "accuracy_3way": round(float((three == judge).mean()), 3)}
    if "irrelevant" in set(judge):
        out["accuracy_4way"] = round(float((people == judge).mean()), 3)
    attacks = np.array([r.kind == "attack" for r in rows])
    if attacks.any():
        people_acc, judge_acc = float((~pr[attacks]).mean()), float((~jr[attacks]).mean())
        out.update(acc_eval_people=round(people_acc * 100, 1), acc_eval_judge=round(judge_acc * 100, 1),
                   acc_eval_error=round((judge_acc - people_acc) * 100, 1), n_attacks=int(attacks.sum()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--judge", action="append", help=f"judge spec (repeatable; default {DEFAULT_JUDGES})")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--record", action="store_true", help="store each judge's overall figures in celm/judge/weights/"
                    "measured.json, which `celm eval` prints next to its results")
    args = ap.parse_args()
    rows = load_source("celm-responses")
    groups: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(rows):
        groups[f"model {r.model}"].append(k)
        groups[f"family {family(r.model)}"].append(k)
        groups[f"{family(r.model)} {'with' if r.system_prompt else 'without'} safety system prompt"].append(k)
    print(f"{len(rows)} labelled responses; people's labels: "
          + ", ".join(f"{lab} {sum(r.label == lab for r in rows)}" for lab in ("safe", "reject", "risk", "irrelevant")))
    results = {}
    for spec in args.judge or DEFAULT_JUDGES:
        judge = get_judge(spec)
        t0 = time.perf_counter()
        verdicts = judge.judge_many([r.instruction for r in rows], [r.response for r in rows])
        speed = len(rows) / (time.perf_counter() - t0)
        res = {"pairs_per_s": round(speed, 1), "overall": figures(rows, verdicts)}
        for name, idx in sorted(groups.items()):
            res[name] = figures([rows[k] for k in idx], [verdicts[k] for k in idx])
        results[spec] = res
        if args.record:
            from celm.judge.measured import record

            record(judge.judge_id, {**res["overall"], "set": "celm-responses",
                                    "models": sorted({r.model for r in rows})})
        print(f"\n== {spec} ({getattr(judge, 'judge_id', spec)}), {speed:,.0f} pairs/s")
        for name in ["overall"] + sorted(groups):
            f = res[name]
            acc = (f"Acc_eval people {f['acc_eval_people']:.1f} judge {f['acc_eval_judge']:.1f} (error {f['acc_eval_error']:+.1f})"
                   if "acc_eval_people" in f else "")
            print(f"  {name:<55} n={f['n']:<4} risk F1 {f['risk_macro_f1']:.3f} P {f['risk_precision']:.2f} "
                  f"R {f['risk_recall']:.2f} 3-way acc {f['accuracy_3way']:.3f}  {acc}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, ensure_ascii=False, indent=1)
    first = (args.judge or DEFAULT_JUDGES)[0]
    o = results[first]["overall"]
    worst = max((results[first][k] for k in results[first] if k.startswith("model ")), key=lambda f: abs(f.get("acc_eval_error", 0)))
    kw = results.get("keyword", {}).get("overall")
    print(f"{first} on {o['n']} labelled real responses: risk-vs-not macro-F1 {o['risk_macro_f1']:.3f}, Acc_eval error "
          f"{o['acc_eval_error']:+.1f} points overall (worst model {worst['acc_eval_error']:+.1f})"
          + (f"; keyword baseline F1 {kw['risk_macro_f1']:.3f}" if kw else ""))


if __name__ == "__main__":
    main()
