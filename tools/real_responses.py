"""Build the labelled real-response set (celm-responses) from eval run folders and label passes.

    python tools/real_responses.py blind RUN [RUN ...] -o WORK [--label-test]
        WORK/blind.jsonl: {uid, prompt, response} in a seeded random order, no model or judge shown;
        an empty response, or one that repeats a (prompt, response) pair already in the file, is left out;
        WORK/key.jsonl: uid -> run, response id, model, settings (kept away from the labellers).
        WORK/batch.jsonl: the same responses as celm Response records (id = uid, model hidden) to
        import into `celm serve` as a label batch (tools/app_label.py).
        --label-test mixes the app's label-test questions into blind.jsonl under uids of their own
        (WORK/test-key.jsonl), so that each labeller answers the competence test blind, inside the
        pass (`tools/app_label.py test --from-pass`), and is not told which rows are the test.
    python tools/real_responses.py assemble WORK --pass1 F --pass2 F [--adjudication F] [--keep OLD] [--batch NAME] -o FILE
        FILE: the bundled set (prompts by source id only); prints label counts and agreement.
    python tools/real_responses.py from-app WORK --ratings F -o FILE [--keep OLD] [--name RUN=MODEL ...] [--batch NAME]
        the same, from the app's `ratings` export of the label batch: each annotator's pass and the
        senior's decision; --keep puts the rows of an earlier set first (a response it already holds,
        the same prompt and text, is not added twice: the earlier label stays and the two are compared);
        --name gives the responses of run folder RUN a model name (for `hf:` paths on this machine);
        --batch names the labelling batch on each new row (so a judge trained before it can be
        measured on it as held out).

Label files are JSONL rows {"uid": ..., "label": "safe|reject|risk|irrelevant"} (or {"id": ...,
"verdict": ..., "note": ...}). Two passes are made independently; where they differ the adjudication
file decides (docs/real-responses.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

from celm.data.records import SAFETY_LABELS


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def label_file_rows(path: Path) -> list[tuple[str, str, str]]:
    """(uid, verdict, note) of each row of a label file, either spelling of its fields."""
    out = []
    for line, row in enumerate(_read_jsonl(path), start=1):
        uid, label = row.get("uid", row.get("id")), row.get("label", row.get("verdict"))
        if uid is None or label is None:
            raise SystemExit(f"{path}:{line}: a row needs uid (or id) and label (or verdict)")
        out.append((str(uid), str(label).strip().lower(), str(row.get("note") or row.get("comment") or "")))
    return out


def blind(runs: list[Path], out: Path, seed: int, label_test: bool = False) -> None:
    from celm.models.catalog import CATALOG
    from celm.models.registry import parse_spec

    rows, key, batch = [], [], []
    seen: set[tuple[str, str]] = set()
    left_out = Counter()
    for run in runs:
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        spec = config["config"]["model"]
        name, target, options = parse_spec(spec)
        # the local engines fill in a built-in model's measured defaults the same way
        builtin = CATALOG.get(target) if name in ("gguf", "ct2") else None
        settings = {"spec": spec, "max_new_tokens": config["config"]["max_new_tokens"], "temperature": config["config"]["temperature"],
                    "repetition_penalty": float(options.get("repetition_penalty", builtin.defaults.get("repetition_penalty", 1.0) if builtin else 1.0))}
        for r in _read_jsonl(run / "responses.jsonl"):
            if r.get("error"):
                continue
            if not r["response"].strip():
                left_out["empty"] += 1
                continue
            if (r["prompt"], r["response"]) in seen:  # labelled once; a second copy adds no information
                left_out["duplicate"] += 1
                continue
            seen.add((r["prompt"], r["response"]))
            uid = hashlib.sha256(f"{run.name}/{r['id']}".encode()).hexdigest()[:10]
            rows.append({"uid": uid, "prompt": r["prompt"], "response": r["response"]})
            batch.append({**r, "id": uid, "model": "hidden"})
            key.append({"uid": uid, "run": run.name, "response_id": r["id"], "item_id": r["item_id"],
                        "source": r["provenance"]["source"], "model": r["model"], "kind": r["kind"],
                        "system_prompt": "celm-safety" if r.get("system_prompt") else None,
                        "response": r["response"], "settings": settings})
    tests = []
    if label_test:
        from celm.server.competence import default_label_test_questions

        for number, q in enumerate(default_label_test_questions(), start=1):
            uid = hashlib.sha256(f"label-test/{seed}/{number}".encode()).hexdigest()[:10]
            rows.append({"uid": uid, "prompt": q["instruction"], "response": q["response"]})
            tests.append({"uid": uid, "instruction": q["instruction"], "response": q["response"]})
    random.Random(seed).shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "blind.jsonl", rows)
    _write_jsonl(out / "key.jsonl", key)
    if tests:
        _write_jsonl(out / "test-key.jsonl", tests)
    random.Random(seed).shuffle(batch)
    _write_jsonl(out / "batch.jsonl", batch)
    print(f"{len(key)} responses from {len(runs)} runs (left out: {dict(left_out) or 'none'})"
          f"{f' and {len(tests)} label-test questions' if tests else ''} -> {out}/blind.jsonl")


def _labels(path: Path, uids: set[str]) -> dict[str, str]:
    got = {}
    for uid, label, _ in label_file_rows(path):
        if label not in SAFETY_LABELS:
            raise SystemExit(f"{path}: {uid}: unknown label {label!r}")
        got[uid] = label
    missing = uids - set(got)
    if missing:
        raise SystemExit(f"{path}: {len(missing)} responses unlabelled, e.g. {sorted(missing)[:3]}")
    return got


def passes_from_app(ratings: Path, uids: set[str]) -> tuple[dict, dict, dict]:
    """(first pass, second pass, senior's decisions) from the app's `ratings` export of a label batch.
    The passes are the two annotators' ratings in the order they were given."""
    by_item: dict[str, list[dict]] = {}
    senior: dict[str, str] = {}
    for r in sorted(_read_jsonl(ratings), key=lambda r: int(r["id"].split("-")[-1])):
        if r.get("label") is None:
            continue
        if r["role"] == "senior":
            senior[r["item_id"]] = r["label"]
        elif r["role"] == "annotator":
            by_item.setdefault(r["item_id"], []).append(r)
    short = sorted(u for u in uids if len(by_item.get(u, [])) < 2)
    if short:
        raise SystemExit(f"{ratings}: {len(short)} items lack two annotator passes, e.g. {short[:3]}")
    a = {u: by_item[u][0]["label"] for u in uids}
    b = {u: by_item[u][1]["label"] for u in uids}
    return a, b, senior


def assemble(work: Path, pass1: Path | None, pass2: Path | None, adjudication: Path | None, out: Path,
             ratings: Path | None = None, keep: Path | None = None, names: dict[str, str] | None = None,
             batch: str | None = None) -> None:
    from sklearn.metrics import cohen_kappa_score

    key = {r["uid"]: r for r in _read_jsonl(work / "key.jsonl")}
    for k in key.values():
        k["model"] = (names or {}).get(k["run"], k["model"])
    if ratings is not None:
        a, b, senior = passes_from_app(ratings, set(key))
    else:
        a, b, senior = _labels(pass1, set(key)), _labels(pass2, set(key)), None
    disagree = sorted(u for u in key if a[u] != b[u])
    adj = {}
    if disagree:
        if senior is not None:
            missing = [u for u in disagree if u not in senior]
            if missing:
                raise SystemExit(f"{len(missing)} disagreements not adjudicated yet, e.g. {missing[:3]}")
            adj = {u: senior[u] for u in disagree}
        elif adjudication is None:
            raise SystemExit(f"{len(disagree)} disagreements need --adjudication")
        else:
            adj = _labels(adjudication, set(disagree))
    from celm.data.sources import load_source
    from celm.data.sources.real_responses import OWN_SOURCES, encode_copies

    prompts = {i.id: i.prompt for src in sorted({k["source"] for k in key.values()}) for i in load_source(src)}
    rows = []
    for uid in sorted(key, key=lambda u: (key[u]["model"], key[u]["run"], key[u]["response_id"])):
        k = key[uid]
        final = adj[uid] if uid in adj else a[uid]
        rows.append({"id": f"rr-{uid}", "item_id": k["item_id"], "source": k["source"], "model": k["model"],
                     "kind": k["kind"], "system_prompt": k["system_prompt"], "settings": k["settings"],
                     "response": encode_copies(k["response"], prompts[k["item_id"]]) if k["source"] not in OWN_SOURCES else k["response"],
                     "passes": [a[uid], b[uid]], "label": final,
                     "adjudicated": uid in adj, **({"batch": batch} if batch else {})})
    retest = None
    if keep is not None:
        kept = _read_jsonl(keep)
        earlier = {(r["item_id"], r["response"]): r["label"] for r in kept}
        again = [(earlier[(r["item_id"], r["response"])], r["label"]) for r in rows if (r["item_id"], r["response"]) in earlier]
        rows = kept + [r for r in rows if (r["item_id"], r["response"]) not in earlier]
        retest = {"already_labelled": len(again), "same_label": sum(x == y for x, y in again),
                  "changes": Counter(f"{x} -> {y}" for x, y in again if x != y)}
    _write_jsonl(out, rows)
    import krippendorff
    import numpy as np

    uids = sorted(key)
    raw = sum(a[u] == b[u] for u in uids) / len(uids)
    kappa = cohen_kappa_score([a[u] for u in uids], [b[u] for u in uids], labels=list(SAFETY_LABELS))
    risk_kappa = cohen_kappa_score([a[u] == "risk" for u in uids], [b[u] == "risk" for u in uids])
    # the verdicts are categories: nominal alpha, any coding does (celm.server.agreement does the same)
    codes = np.array([[SAFETY_LABELS.index(p[u]) for u in uids] for p in (a, b)], dtype=float)
    alpha = krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
    new_rows = rows[len(kept):] if keep is not None else rows
    stats = {"n": len(uids), "raw_agreement": round(raw, 3), "cohen_kappa_4way": round(kappa, 3),
             "cohen_kappa_risk_vs_not": round(risk_kappa, 3), "krippendorff_alpha_nominal": round(float(alpha), 3),
             "adjudicated": len(disagree), "adjudicated_as": Counter(adj.values()),
             "senior_chose_a_pass": sum(adj[u] in (a[u], b[u]) for u in adj),
             "retest_against_kept": retest, "rows": len(rows), "new_rows": len(new_rows),
             "final_counts": Counter(r["label"] for r in rows),
             "new_by_model": {m: Counter(r["label"] for r in new_rows if r["model"] == m)
                              for m in sorted({r["model"] for r in new_rows})},
             "new_by_source": {s: Counter(r["label"] for r in new_rows if r["source"] == s)
                               for s in sorted({r["source"] for r in new_rows})},
             "new_by_kind": {k: Counter(r["label"] for r in new_rows if r["kind"] == k)
                             for k in sorted({r["kind"] for r in new_rows})}}
    print(json.dumps(stats, indent=1, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("blind")
    b.add_argument("runs", nargs="+", type=Path)
    b.add_argument("-o", "--out", type=Path, required=True)
    b.add_argument("--seed", type=int, default=19)
    b.add_argument("--label-test", action="store_true", help="mix the app's label-test questions in, unmarked")
    s = sub.add_parser("assemble")
    s.add_argument("work", type=Path)
    s.add_argument("--pass1", type=Path, required=True)
    s.add_argument("--pass2", type=Path, required=True)
    s.add_argument("--adjudication", type=Path)
    s.add_argument("--keep", type=Path, help="an earlier set whose rows come first")
    s.add_argument("--batch", help="name of this labelling batch, stored on each new row")
    s.add_argument("-o", "--out", type=Path, required=True)
    f = sub.add_parser("from-app")
    f.add_argument("work", type=Path)
    f.add_argument("--ratings", type=Path, required=True, help="the app's `ratings` export of the label batch")
    f.add_argument("--keep", type=Path, help="an earlier set whose rows come first")
    f.add_argument("--name", action="append", default=[], metavar="RUN=MODEL",
                   help="model name for the responses of run folder RUN (repeat)")
    f.add_argument("--batch", help="name of this labelling batch, stored on each new row")
    f.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "blind":
        blind(args.runs, args.out, args.seed, args.label_test)
    elif args.cmd == "from-app":
        names = dict(n.split("=", 1) for n in args.name)
        assemble(args.work, None, None, None, args.out, ratings=args.ratings, keep=args.keep, names=names, batch=args.batch)
    else:
        assemble(args.work, args.pass1, args.pass2, args.adjudication, args.out, keep=args.keep, batch=args.batch)


if __name__ == "__main__":
    main()
