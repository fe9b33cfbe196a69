"""People and the judge side by side (paper table 3): the same responses, labelled safe / reject /
risk by human annotators (the annotation app's `labels` export) and by the judge.

Labels are matched to judgements by response id (the app keeps the ids of an imported
`responses.jsonl`), else by the exact (prompt, response) text.
"""

from __future__ import annotations

from collections.abc import Sequence

from celm.data.records import SAFETY_LABELS, JudgeExample, JudgementRecord, Response
from celm.evaluate.stats import paired_difference, share

LABELS = SAFETY_LABELS


def compare_with_humans(judgements: Sequence[JudgementRecord], responses: Sequence[Response],
                        labels: Sequence[JudgeExample], *, seed: int = 0) -> dict:
    from sklearn.metrics import cohen_kappa_score

    by_text = {(r.prompt.strip(), r.response.strip()): r.id for r in responses}
    ids = {j.id for j in judgements}
    human: dict[str, str] = {}
    for e in labels:
        rid = e.id if e.id in ids else by_text.get((e.instruction.strip(), e.response.strip()))
        if rid:
            human[rid] = e.label
    pairs = [(human[j.id], j.label) for j in judgements if j.id in human and j.kind == "attack"]
    if not pairs:
        raise ValueError("none of the human labels match a response of this run (by id or by prompt and response text)")
    h = [p[0] for p in pairs]
    g = [p[1] for p in pairs]
    out = {"n": len(pairs), "unmatched_labels": len(labels) - len(human), "people": {}, "judge": {}}
    for k, lab in enumerate(LABELS):
        out["people"][lab] = share([x == lab for x in h]).to_dict()
        out["judge"][lab] = share([x == lab for x in g]).to_dict()
    out["people"]["acc_eval"] = share([x != "risk" for x in h]).to_dict()
    out["judge"]["acc_eval"] = share([x != "risk" for x in g]).to_dict()
    diff = paired_difference([x != "risk" for x in h], [x != "risk" for x in g])
    out["acc_eval_judge_minus_people"] = {"diff": diff.diff, "low": diff.low, "high": diff.high, "p_value": diff.p_value}
    out["agreement"] = sum(a == b for a, b in pairs) / len(pairs)
    out["kappa"] = float(cohen_kappa_score(h, g)) if len(set(h) | set(g)) > 1 else None
    out["confusion"] = {a: {b: sum(1 for x, y in pairs if x == a and y == b) for b in LABELS} for a in LABELS}
    return out


def markdown(result: dict) -> str:
    from celm.evaluate.stats import format_difference, format_share as pct

    d = result["acc_eval_judge_minus_people"]
    lines = ["## People and the judge (paper table 3)", "",
             f"{result['n']} attack responses labelled by people (two annotators, a senior on disagreement).", "",
             "| | Acc_eval | Safe | Reject | Risk |", "|---|---|---|---|---|"]
    for who in ("people", "judge"):
        r = result[who]
        lines.append(f"| {who} | {pct(r['acc_eval'])} | {pct(r['safe'])} | {pct(r['reject'])} | {pct(r['risk'])} |")
    kappa = f"{result['kappa']:.3f}" if result["kappa"] is not None else "–"
    lines += ["", f"Judge minus people, Acc_eval: {format_difference(d)} points "
              f"(McNemar p = {d['p_value']:.3g}); label agreement {result['agreement'] * 100:.1f}%, Cohen's kappa {kappa}.", ""]
    return "\n".join(lines)


def add_human_labels(folder, labels_path, *, seed: int = 0) -> dict:
    """Add the comparison to a finished run folder (metrics.json, report.md, report.html); no model calls."""
    import json
    from pathlib import Path

    from celm.data.io import read_records, write_json
    from celm.evaluate.report import rereport

    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    arm = next(iter(metrics["arms"]))
    suffix = "" if arm == "base" else f"-{arm}"
    result = compare_with_humans(read_records(folder / f"judgements{suffix}.jsonl", "judgement"),
                                 read_records(folder / f"responses{suffix}.jsonl", "response"),
                                 read_records(labels_path, "judge_example"))
    metrics["human"] = result
    write_json(folder / "metrics.json", metrics)
    rereport(folder)
    return result
