"""Build the labelled real-response set (celm-responses) from eval run folders and label passes.

    python tools/real_responses.py blind RUN [RUN ...] -o WORK
        WORK/blind.jsonl: {uid, prompt, response} in a seeded random order, no model or judge shown;
        WORK/key.jsonl: uid -> run, response id, model, settings (kept away from the labellers).
    python tools/real_responses.py assemble WORK --pass1 F --pass2 F [--adjudication F] -o FILE
        FILE: the bundled set (prompts by source id only); prints label counts and agreement.

Label files are JSONL rows {"uid": ..., "label": "safe|reject|risk|irrelevant"}. Two passes are
made independently; where they differ the adjudication file decides (docs/real-responses.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

LABELS = ("safe", "reject", "risk", "irrelevant")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def blind(runs: list[Path], out: Path, seed: int) -> None:
    from celm.models.catalog import CATALOG
    from celm.models.registry import parse_spec

    rows, key = [], []
    for run in runs:
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        spec = config["config"]["model"]
        name, target, options = parse_spec(spec)
        builtin = CATALOG.get(target) if name == "gguf" else None
        settings = {"spec": spec, "max_new_tokens": config["config"]["max_new_tokens"], "temperature": config["config"]["temperature"],
                    "repetition_penalty": float(options.get("repetition_penalty", builtin.defaults.get("repetition_penalty", 1.0) if builtin else 1.0))}
        for r in _read_jsonl(run / "responses.jsonl"):
            if r.get("error"):
                continue
            uid = hashlib.sha256(f"{run.name}/{r['id']}".encode()).hexdigest()[:10]
            rows.append({"uid": uid, "prompt": r["prompt"], "response": r["response"]})
            key.append({"uid": uid, "run": run.name, "response_id": r["id"], "item_id": r["item_id"],
                        "source": r["provenance"]["source"], "model": r["model"], "kind": r["kind"],
                        "system_prompt": "celm-safety" if r.get("system_prompt") else None,
                        "response": r["response"], "settings": settings})
    random.Random(seed).shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "blind.jsonl", rows)
    _write_jsonl(out / "key.jsonl", key)
    print(f"{len(rows)} responses from {len(runs)} runs -> {out}/blind.jsonl")


def _labels(path: Path, uids: set[str]) -> dict[str, str]:
    got = {}
    for row in _read_jsonl(path):
        if row["label"] not in LABELS:
            raise SystemExit(f"{path}: {row['uid']}: unknown label {row['label']!r}")
        got[row["uid"]] = row["label"]
    missing = uids - set(got)
    if missing:
        raise SystemExit(f"{path}: {len(missing)} responses unlabelled, e.g. {sorted(missing)[:3]}")
    return got


def assemble(work: Path, pass1: Path, pass2: Path, adjudication: Path | None, out: Path) -> None:
    from sklearn.metrics import cohen_kappa_score

    key = {r["uid"]: r for r in _read_jsonl(work / "key.jsonl")}
    a, b = _labels(pass1, set(key)), _labels(pass2, set(key))
    disagree = sorted(u for u in key if a[u] != b[u])
    adj = {}
    if disagree:
        if adjudication is None:
            raise SystemExit(f"{len(disagree)} disagreements need --adjudication")
        adj = _labels(adjudication, set(disagree))
    from celm.data.sources import load_source
    from celm.data.sources.real_responses import encode_copies

    prompts = {i.id: i.prompt for src in sorted({k["source"] for k in key.values()}) for i in load_source(src)}
    rows = []
    for uid in sorted(key, key=lambda u: (key[u]["model"], key[u]["run"], key[u]["response_id"])):
        k = key[uid]
        final = adj[uid] if uid in adj else a[uid]
        rows.append({"id": f"rr-{uid}", "item_id": k["item_id"], "source": k["source"], "model": k["model"],
                     "kind": k["kind"], "system_prompt": k["system_prompt"], "settings": k["settings"],
                     "response": encode_copies(k["response"], prompts[k["item_id"]]) if k["source"] != "celm-bench" else k["response"],
                     "passes": [a[uid], b[uid]], "label": final,
                     "adjudicated": uid in adj})
    _write_jsonl(out, rows)
    uids = sorted(key)
    raw = sum(a[u] == b[u] for u in uids) / len(uids)
    kappa = cohen_kappa_score([a[u] for u in uids], [b[u] for u in uids], labels=list(LABELS))
    risk_kappa = cohen_kappa_score([a[u] == "risk" for u in uids], [b[u] == "risk" for u in uids])
    print(json.dumps({"n": len(uids), "raw_agreement": round(raw, 3), "cohen_kappa_4way": round(kappa, 3),
                      "cohen_kappa_risk_vs_not": round(risk_kappa, 3), "adjudicated": len(disagree),
                      "final_counts": Counter(r["label"] for r in rows),
                      "by_model": {m: Counter(r["label"] for r in rows if r["model"] == m)
                                   for m in sorted({r["model"] for r in rows})}}, indent=1, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("blind")
    b.add_argument("runs", nargs="+", type=Path)
    b.add_argument("-o", "--out", type=Path, required=True)
    b.add_argument("--seed", type=int, default=19)
    s = sub.add_parser("assemble")
    s.add_argument("work", type=Path)
    s.add_argument("--pass1", type=Path, required=True)
    s.add_argument("--pass2", type=Path, required=True)
    s.add_argument("--adjudication", type=Path)
    s.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "blind":
        blind(args.runs, args.out, args.seed)
    else:
        assemble(args.work, args.pass1, args.pass2, args.adjudication, args.out)


if __name__ == "__main__":
    main()
