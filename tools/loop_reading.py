"""Read a loop's evaluation answers by hand: a blind sample, two labelling passes, adjudication, figures.

The loop's per-round figures come from a judge; this checks them by reading. The same evaluation
prompts are sampled from every round, shuffled together with the round hidden, and labelled with the
four verdicts of docs/judge-rubric.md in two independent passes; disagreements get a third, deciding
pass. The result is a LabelledResponse file, and per-round Acc_eval and helpful & safe by reading with
paired changes, beside the judge's figures on the same answers.

    python tools/loop_reading.py sample runs/bench/loop -o /tmp/reading --attacks 40 --benign 10
    # label /tmp/reading/blind.jsonl twice (pass-a.jsonl, pass-b.jsonl: {"id", "label"} per line)
    python tools/loop_reading.py disagreements /tmp/reading          # -> disagreements.jsonl
    # decide them (pass-c.jsonl)
    python tools/loop_reading.py score runs/bench/loop /tmp/reading -o bench/labels/loop-miniature.jsonl
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
from celm.loop.folder import LoopFolder


def _rounds(loop: Path) -> list:
    return [rf for rf in LoopFolder(loop).rounds() if rf.done("eval")]


def _answers(rf):
    run = RunFolder(rf.eval_dir)
    arm = run.log().first_arm
    judged = {j.item_id: j for j in run.judgements(arm)}
    return {r.item_id: (r, judged[r.item_id]) for r in run.responses(arm)}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def sample(loop: Path, out: Path, attacks: int, benign: int, seed: int) -> None:
    rounds = _rounds(loop)
    answers = [_answers(rf) for rf in rounds]
    common = sorted(set.intersection(*(set(a) for a in answers)))
    kinds = {i: answers[0][i][0].kind for i in common}
    rng = random.Random(seed)
    chosen = (rng.sample([i for i in common if kinds[i] == "attack"], attacks)
              + rng.sample([i for i in common if kinds[i] == "benign"], benign))
    blind, key = [], {}
    for rf, a in zip(rounds, answers):
        for item_id in chosen:
            token = secrets.token_hex(4)
            r = a[item_id][0]
            blind.append({"id": token, "prompt": r.prompt, "response": r.response})
            key[token] = {"round": rf.number, "item_id": item_id, "kind": r.kind}
    rng.shuffle(blind)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "blind.jsonl", blind)
    (out / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
    print(f"{len(blind)} answers ({len(chosen)} prompts x {len(rounds)} rounds) -> {out / 'blind.jsonl'}")


def _labels(path: Path) -> dict[str, str]:
    out = {}
    for row in _jsonl(path):
        if row["label"] not in SAFETY_LABELS:
            raise ValueError(f"{path}: {row['id']}: unknown label {row['label']!r}")
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


def score(loop: Path, folder: Path, output: Path | None) -> None:
    from sklearn.metrics import cohen_kappa_score

    from celm.evaluate.metrics import flags
    from celm.evaluate.stats import format_difference, format_share, paired_difference, share

    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    a, b = _labels(folder / "pass-a.jsonl"), _labels(folder / "pass-b.jsonl")
    c = _labels(folder / "pass-c.jsonl") if (folder / "pass-c.jsonl").exists() else {}
    final = {i: a[i] if a[i] == b[i] else c[i] for i in key}
    rounds = {rf.number: _answers(rf) for rf in _rounds(loop)}
    records, by_round, judge_by_round = [], {}, {}
    for token, k in sorted(key.items(), key=lambda kv: (kv[1]["round"], kv[1]["item_id"])):
        r, j = rounds[k["round"]][k["item_id"]]
        by_round.setdefault(k["round"], {})[k["item_id"]] = (final[token], k["kind"])
        judge_by_round.setdefault(k["round"], {})[k["item_id"]] = j.label
        records.append(LabelledResponse(
            id=f"loop-r{k['round']}-{k['item_id']}", item_id=k["item_id"], instruction=r.prompt, response=r.response,
            model=r.model, kind=r.kind, label=final[token], passes=[a[token], b[token]], adjudicated=a[token] != b[token],
            scenario=r.scenario, provenance=Provenance(source="celm-loop-reading", method="two passes + adjudication",
                                                       details={"round": k["round"], "judge": j.label})))
    agree = sum(a[i] == b[i] for i in key) / len(key)
    kappa = cohen_kappa_score([a[i] for i in key], [b[i] for i in key])
    print(f"reading: {len(key)} answers, two passes agree on {agree:.3f} (Cohen's kappa {kappa:.3f}); "
          f"{sum(a[i] != b[i] for i in key)} adjudicated")
    first = min(by_round)
    for n in sorted(by_round):
        att = {i: lab for i, (lab, kind) in by_round[n].items() if kind == "attack"}
        ben = {i: lab for i, (lab, kind) in by_round[n].items() if kind == "benign"}
        judged = {i: judge_by_round[n][i] for i in att}
        line = (f"round {n}: by reading Acc_eval {format_share(share(flags(att.values(), 'acc_eval')).to_dict())}, "
                f"helpful & safe {format_share(share(flags(att.values(), 'helpful_safe')).to_dict())}, "
                f"over-refusal {format_share(share([v == 'reject' for v in ben.values()]).to_dict())}; "
                f"judge on the same answers Acc_eval {format_share(share(flags(judged.values(), 'acc_eval')).to_dict())}")
        print(line)
        if n != first:
            ref = {i: lab for i, (lab, kind) in by_round[first].items() if kind == "attack"}
            ids = sorted(set(ref) & set(att))
            for name in ("acc_eval", "helpful_safe"):
                d = paired_difference(flags((ref[i] for i in ids), name), flags((att[i] for i in ids), name))
                print(f"  round {n} vs {first} by reading, {name}: "
                      f"{format_difference(d.to_dict(), significant_mark='*' if d.significant else '')} (n={d.n})")
    agree_judge = [judge_by_round[n][i] == lab for n in by_round for i, (lab, _) in by_round[n].items()]
    print(f"judge vs reading on the sample: {sum(agree_judge)}/{len(agree_judge)} verdicts equal")
    if output:
        write_records(output, records)
        print(f"labels -> {output}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("loop", type=Path)
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--attacks", type=int, default=40)
    s.add_argument("--benign", type=int, default=10)
    s.add_argument("--seed", type=int, default=0)
    d = sub.add_parser("disagreements")
    d.add_argument("folder", type=Path)
    sc = sub.add_parser("score")
    sc.add_argument("loop", type=Path)
    sc.add_argument("folder", type=Path)
    sc.add_argument("-o", "--output", type=Path)
    args = ap.parse_args()
    if args.cmd == "sample":
        sample(args.loop, args.output, args.attacks, args.benign, args.seed)
    elif args.cmd == "disagreements":
        disagreements(args.folder)
    else:
        score(args.loop, args.folder, args.output)


if __name__ == "__main__":
    main()
