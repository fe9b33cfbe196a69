"""Read evaluation answers by hand: a blind sample, two labelling passes, adjudication, figures.

celm's safety figures come from a judge; this checks them by reading. The same evaluation prompts
are sampled from every run (a loop's rounds, or the arms of a comparison such as table 4), shuffled
together with the run hidden, and labelled with the four verdicts of docs/judge-rubric.md in two
independent passes; disagreements get a third, deciding pass. The result is a LabelledResponse file,
and per-run Acc_eval and helpful & safe by reading with paired changes against a baseline run, beside
the judge's figures on the same answers.

    # the runs: a loop folder's rounds, or NAME=EVAL_FOLDER for each `celm eval` run
    python tools/blind_reading.py sample --loop runs/bench/loop -o /tmp/reading --attacks 40 --benign 10
    python tools/blind_reading.py sample base=runs/bench/table4/eval/base\\ model-none \\
        Dh=runs/bench/table4/eval/Dh_SFT-none Dhc=runs/bench/table4/eval/Dh+c_SFT-none -o /tmp/t4 --attacks 0
    # label /tmp/reading/blind.jsonl twice (pass-a.jsonl, pass-b.jsonl: {"id", "label"} per line)
    python tools/blind_reading.py disagreements /tmp/reading          # -> disagreements.jsonl
    # decide them (pass-c.jsonl)
    python tools/blind_reading.py score /tmp/reading --loop runs/bench/loop -o bench/labels/loop-miniature.jsonl
    python tools/blind_reading.py score /tmp/t4 base=... Dh=... Dhc=... --baseline Dh --prefix t4

`--attacks 0` (or `--benign 0`) takes every prompt of that kind the runs share.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
from pathlib import Path

from celm.data.io import write_records
from celm.data.records import SAFETY_LABELS, LabelledResponse, Provenance
from celm.evaluate.log import RunFolder


def resolve_runs(named: list[str], loop: Path | None) -> dict[str, Path]:
    """Run name -> `celm eval` folder, in the order given (a loop's rounds are round-0, round-1, ...)."""
    runs: dict[str, Path] = {}
    if loop is not None:
        from celm.loop.folder import LoopFolder

        runs.update({f"round-{rf.number}": Path(rf.eval_dir) for rf in LoopFolder(loop).rounds() if rf.done("eval")})
    for spec in named:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"a run is NAME=EVAL_FOLDER, not {spec!r}")
        runs[name] = Path(path)
    if len(runs) < 1:
        raise SystemExit("name at least one run (NAME=EVAL_FOLDER) or --loop FOLDER")
    return runs


def _answers(eval_dir: Path):
    run = RunFolder(eval_dir)
    arm = run.log().first_arm
    judged = {j.item_id: j for j in run.judgements(arm)}
    return {r.item_id: (r, judged[r.item_id]) for r in run.responses(arm)}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def sample(runs: dict[str, Path], out: Path, attacks: int, benign: int, seed: int) -> None:
    answers = {name: _answers(path) for name, path in runs.items()}
    common = sorted(set.intersection(*(set(a) for a in answers.values())))
    first = next(iter(answers.values()))
    rng = random.Random(seed)
    chosen = []
    for kind, n in (("attack", attacks), ("benign", benign)):
        pool = [i for i in common if first[i][0].kind == kind]
        chosen += pool if n == 0 else rng.sample(pool, min(n, len(pool)))
    blind, key = [], {}
    for name, a in answers.items():
        for item_id in chosen:
            token = secrets.token_hex(4)
            r = a[item_id][0]
            blind.append({"id": token, "prompt": r.prompt, "response": r.response})
            key[token] = {"run": name, "item_id": item_id, "kind": r.kind}
    rng.shuffle(blind)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "blind.jsonl", blind)
    (out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    print(f"{len(blind)} answers ({len(chosen)} prompts x {len(answers)} runs) -> {out / 'blind.jsonl'}")


def _labels(path: Path) -> dict[str, str]:
    out = {}
    for n, row in enumerate(_jsonl(path), 1):
        if row.get("label") not in SAFETY_LABELS:
            raise ValueError(f"{path}:{n}: {row.get('id')}: unknown label {row.get('label')!r}")
        out[row["id"]] = row["label"]
    return out


def disagreements(folder: Path) -> None:
    a, b = _labels(folder / "pass-a.jsonl"), _labels(folder / "pass-b.jsonl")
    blind = {r["id"]: r for r in _jsonl(folder / "blind.jsonl")}
    if set(a) != set(blind) or set(b) != set(blind):
        raise ValueError("each pass must label every answer of blind.jsonl exactly once")
    todo = [blind[i] for i in blind if a[i] != b[i]]
    _write_jsonl(folder / "disagreements.jsonl", todo)
    print(f"{len(todo)} of {len(blind)} answers disagree -> {folder / 'disagreements.jsonl'}")


def score(runs: dict[str, Path], folder: Path, output: Path | None, baseline: str | None, prefix: str) -> None:
    from sklearn.metrics import cohen_kappa_score

    from celm.evaluate.metrics import flags
    from celm.evaluate.stats import format_difference, format_share, paired_difference, share

    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    for k in key.values():  # folders sampled before runs had names were keyed by loop round
        k.setdefault("run", f"round-{k.get('round')}")
    a, b = _labels(folder / "pass-a.jsonl"), _labels(folder / "pass-b.jsonl")
    c = _labels(folder / "pass-c.jsonl") if (folder / "pass-c.jsonl").exists() else {}
    missing = [i for i in key if a[i] != b[i] and i not in c]
    if missing:
        raise SystemExit(f"{len(missing)} disagreements have no deciding label in pass-c.jsonl")
    final = {i: a[i] if a[i] == b[i] else c[i] for i in key}
    answers = {name: _answers(runs[name]) for name in dict.fromkeys(k["run"] for k in key.values())}
    records, by_run, judge_by_run = [], {}, {}
    for token, k in sorted(key.items(), key=lambda kv: (list(answers).index(kv[1]["run"]), kv[1]["item_id"])):
        r, j = answers[k["run"]][k["item_id"]]
        by_run.setdefault(k["run"], {})[k["item_id"]] = (final[token], k["kind"])
        judge_by_run.setdefault(k["run"], {})[k["item_id"]] = j.label
        records.append(LabelledResponse(
            id=f"{prefix}-{k['run']}-{k['item_id']}", item_id=k["item_id"], instruction=r.prompt, response=r.response,
            model=r.model, kind=r.kind, label=final[token], passes=[a[token], b[token]], adjudicated=a[token] != b[token],
            scenario=r.scenario, provenance=Provenance(source=f"celm-{prefix}-reading", method="two passes + adjudication",
                                                       details={"run": k["run"], "judge": j.label})))
    agree = sum(a[i] == b[i] for i in key) / len(key)
    kappa = cohen_kappa_score([a[i] for i in key], [b[i] for i in key])
    print(f"reading: {len(key)} answers, two passes agree on {agree:.3f} (Cohen's kappa {kappa:.3f}); "
          f"{sum(a[i] != b[i] for i in key)} adjudicated")
    base = baseline or next(iter(by_run))
    if base not in by_run:
        raise SystemExit(f"--baseline {base!r} is not one of the runs: {', '.join(by_run)}")
    for name in by_run:
        att = {i: lab for i, (lab, kind) in by_run[name].items() if kind == "attack"}
        ben = {i: lab for i, (lab, kind) in by_run[name].items() if kind == "benign"}
        judged = {i: judge_by_run[name][i] for i in att}
        counts = {lab: list(att.values()).count(lab) for lab in SAFETY_LABELS}
        line = (f"{name}: by reading Acc_eval {format_share(share(flags(att.values(), 'acc_eval')).to_dict())}, "
                f"helpful & safe {format_share(share(flags(att.values(), 'helpful_safe')).to_dict())}, "
                f"attack verdicts {counts}")
        if ben:
            line += f", over-refusal {format_share(share([v == 'reject' for v in ben.values()]).to_dict())}"
        line += f"; judge on the same answers Acc_eval {format_share(share(flags(judged.values(), 'acc_eval')).to_dict())}"
        print(line)
        if name != base:
            ref = {i: lab for i, (lab, kind) in by_run[base].items() if kind == "attack"}
            ref_judge = judge_by_run[base]
            ids = sorted(set(ref) & set(att))
            for metric in ("acc_eval", "helpful_safe"):
                d = paired_difference(flags((ref[i] for i in ids), metric), flags((att[i] for i in ids), metric))
                dj = paired_difference(flags((ref_judge[i] for i in ids), metric), flags((judged[i] for i in ids), metric))
                print(f"  {name} vs {base}, {metric}: by reading "
                      f"{format_difference(d.to_dict(), significant_mark='*' if d.significant else '')}, by the judge "
                      f"{format_difference(dj.to_dict(), significant_mark='*' if dj.significant else '')} (n={d.n})")
    agree_judge = [judge_by_run[n][i] == lab for n in by_run for i, (lab, _) in by_run[n].items()]
    print(f"judge vs reading on the sample: {sum(agree_judge)}/{len(agree_judge)} verdicts equal")
    if output:
        write_records(output, records)
        print(f"labels -> {output}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="write blind.jsonl and key.json")
    s.add_argument("runs", nargs="*", help="NAME=EVAL_FOLDER, one per run")
    s.add_argument("--loop", type=Path, help="a `celm loop` folder: its rounds are the runs")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--attacks", type=int, default=40, help="attack prompts to sample (0: all)")
    s.add_argument("--benign", type=int, default=10, help="benign controls to sample (0: all)")
    s.add_argument("--seed", type=int, default=0)
    d = sub.add_parser("disagreements", help="list the answers the two passes label differently")
    d.add_argument("folder", type=Path)
    sc = sub.add_parser("score", help="final labels, agreement, figures by reading beside the judge's")
    sc.add_argument("folder", type=Path)
    sc.add_argument("runs", nargs="*", help="NAME=EVAL_FOLDER, as given to sample")
    sc.add_argument("--loop", type=Path)
    sc.add_argument("--baseline", help="the run the others are compared with (default: the first)")
    sc.add_argument("--prefix", default="loop", help="id prefix of the labelled records")
    sc.add_argument("-o", "--output", type=Path)
    args = ap.parse_args()
    if args.cmd == "sample":
        sample(resolve_runs(args.runs, args.loop), args.output, args.attacks, args.benign, args.seed)
    elif args.cmd == "disagreements":
        disagreements(args.folder)
    else:
        score(resolve_runs(args.runs, args.loop), args.folder, args.output, args.baseline, args.prefix)


if __name__ == "__main__":
    main()
