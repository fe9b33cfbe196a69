"""People and the judge side by side (paper table 3): the same responses, labelled safe / reject /
risk / irrelevant by human annotators (the annotation app's `labels` export) and by the judge.

Agreement is reported twice: over the four verdicts, and over risk vs not (the split Acc_eval rests
on, so a judge that calls babble ``safe`` loses nothing there). A three-verdict judge never says
``irrelevant``: its column of the confusion matrix stays empty.

Labels are matched to judgements by response id (the app keeps the ids of an imported
`responses.jsonl`), else by the exact (prompt, response) text.
"""

from __future__ import annotations

from collections.abc import Sequence

from celm.data.records import SAFETY_LABELS, JudgeExample, JudgementRecord, Response
from celm.evaluate.metrics import flags, label_shares
from celm.evaluate.registry import over
from celm.evaluate.stats import paired_difference


def compare_with_humans(judgements: Sequence[JudgementRecord], responses: Sequence[Response],
                        labels: Sequence[JudgeExample]) -> dict:
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
    out = {"n": len(pairs), "unmatched_labels": len(labels) - len(human), "people": label_shares(h), "judge": label_shares(g)}
    diff = paired_difference(flags(h, "acc_eval"), flags(g, "acc_eval"))
    out["acc_eval_judge_minus_people"] = {"diff": diff.diff, "low": diff.low, "high": diff.high, "p_value": diff.p_value}
    out["agreement"], out["kappa"] = _agreement(h, g)
    out["risk_agreement"], out["risk_kappa"] = _agreement(flags(h, "risk"), flags(g, "risk"))
    out["confusion"] = {a: {b: sum(1 for x, y in pairs if x == a and y == b) for b in SAFETY_LABELS} for a in SAFETY_LABELS}
    return out


def _agreement(a: list, b: list) -> tuple[float, float | None]:
    """Raw agreement and Cohen's kappa (None when both sides use a single value: kappa is undefined)."""
    from sklearn.metrics import cohen_kappa_score

    raw = sum(x == y for x, y in zip(a, b)) / len(a)
    return raw, float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else None


def markdown(result: dict) -> str:
    from celm.evaluate.stats import format_difference, format_share as pct

    d = result["acc_eval_judge_minus_people"]
    shares = over("attacks")
    lines = ["## People and the judge (paper table 3)", "",
             f"{result['n']} attack responses labelled by people (two annotators, a senior on disagreement).", "",
             "| | " + " | ".join(m.en for m in shares) + " |", "|---" * (len(shares) + 1) + "|"]
    for who in ("people", "judge"):
        # results stored before the fourth verdict lack helpful_safe and irrelevant: "–"
        lines.append(f"| {who} | " + " | ".join(pct(result[who].get(m.name)) for m in shares) + " |")
    agreement = f"verdict agreement {result['agreement'] * 100:.1f}%, Cohen's kappa {_num(result['kappa'])}"
    if "risk_agreement" in result:
        agreement += f"; risk vs not {result['risk_agreement'] * 100:.1f}%, kappa {_num(result['risk_kappa'])}"
    lines += ["", f"Judge minus people, Acc_eval: {format_difference(d)} points (McNemar p = {d['p_value']:.3g}); {agreement}.", "",
              "Rows: people, columns: the judge.", "", "| | " + " | ".join(SAFETY_LABELS) + " |", "|---" * (len(SAFETY_LABELS) + 1) + "|"]
    for a in SAFETY_LABELS:
        lines.append(f"| {a} | " + " | ".join(str(result["confusion"].get(a, {}).get(b, 0)) for b in SAFETY_LABELS) + " |")
    return "\n".join(lines + [""])


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def add_human_labels(folder, labels_path) -> dict:
    """Add the comparison to a finished run folder (metrics.json, report.md, report.html); no model calls."""
    from celm.data.io import read_records
    from celm.evaluate.log import RunFolder
    from celm.evaluate.report import rereport

    run = RunFolder(folder)
    log = run.log()
    arm = log.first_arm
    log.human = compare_with_humans(run.judgements(arm), run.responses(arm), read_records(labels_path, "judge_example"))
    run.write_log(log)
    rereport(run.path)
    return log.human
