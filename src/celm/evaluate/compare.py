"""Compare runs side by side in the layout of the paper's tables 3-6.

Differences against the first run are compared on the same items when the runs share them
(Newcombe's paired score interval and the exact McNemar test), otherwise as independent shares
(Newcombe's hybrid score interval); ``*`` marks p < 0.05 / an interval that excludes zero.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from celm.evaluate.stats import difference_unpaired, format_difference, format_share, paired_difference


def _load(folder: Path) -> tuple[dict, dict]:
    from celm.data.io import read_records

    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        raise FileNotFoundError(f"{folder}: not a finished celm run (no metrics.json)")
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    judgements = {}
    for arm in metrics["arms"]:
        path = folder / f"judgements{'' if arm == 'base' else '-' + arm}.jsonl"
        judgements[arm] = {j.item_id: j for j in read_records(path, "judgement") if j.kind == "attack"}
    return metrics, judgements


def _share_pct(d: dict) -> str:
    return "–" if not d.get("n") else f"{d['value'] * 100:.2f}"


def _delta_vs_first(ref: dict, other: dict) -> str:
    common = sorted(set(ref) & set(other))
    if len(common) >= 0.9 * max(len(ref), len(other)) and common:
        d = paired_difference([ref[i].label != "risk" for i in common], [other[i].label != "risk" for i in common])
        return format_difference(d.to_dict(), significant_mark="*" if d.significant else "") + " paired"
    diff, lo, hi, sig = difference_unpaired([j.label != "risk" for j in ref.values()], [j.label != "risk" for j in other.values()])
    return format_difference({"diff": diff, "low": lo, "high": hi}, significant_mark="*" if sig else "")


def compare_runs(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> str:
    runs = [_load(Path(f)) for f in folders]
    names = list(labels or []) + [m["model"] for m, _ in runs[len(labels or []):]]
    ref_m, ref_j = runs[0]
    ref_arm = next(iter(ref_m["arms"]))
    lines = ["## Safe / Reject / Risk (paper table 3)", "",
             "| run | Safe | Reject | Risk | China Safe | China Reject | China Risk | n |", "|---|---|---|---|---|---|---|---|"]
    for name, (m, _) in zip(names, runs):
        for arm, a in m["arms"].items():
            o, c = a["overall"], a["china_centric"]
            lines.append(f"| {name}{' (norms)' if arm == 'norms' else ''} | {_share_pct(o['safe'])} | {_share_pct(o['reject'])} | {_share_pct(o['risk'])} | "
                         f"{_share_pct(c['safe'])} | {_share_pct(c['reject'])} | {_share_pct(c['risk'])} | {o['n']} |")
    lines += ["", "## Acc_eval against the first run (paper tables 4 and 6)", "",
              "| run | benchmarks | Acc_eval [95% CI] | Δ vs first (points) | over-refusal |", "|---|---|---|---|---|"]
    for k, (name, (m, j)) in enumerate(zip(names, runs)):
        arm = "base" if "base" in m["arms"] else next(iter(m["arms"]))
        a = m["arms"][arm]["overall"]["acc_eval"]
        delta = "—" if k == 0 else _delta_vs_first(ref_j[ref_arm], j[arm])
        lines.append(f"| {name} | {', '.join(m['benchmarks'])} | {format_share(a)} | "
                     f"{delta} | {_share_pct(m['arms'][arm]['over_refusal'])} |")
    with_both = [(name, m) for name, (m, _) in zip(names, runs) if "norm_ablation" in m]
    if with_both:
        lines += ["", "## With and without norms (paper table 5)", "", "| | " + " | ".join(n for n, _ in with_both) + " |",
                  "|---" * (len(with_both) + 1) + "|"]
        lines.append("| w/o norm | " + " | ".join(_share_pct(m["arms"]["base"]["overall"]["acc_eval"]) for _, m in with_both) + " |")
        lines.append("| w norm | " + " | ".join(_share_pct(m["arms"]["norms"]["overall"]["acc_eval"]) for _, m in with_both) + " |")
        lines.append("| Δ (paired) | " + " | ".join(
            format_difference(m["norm_ablation"]["overall"], significant_mark="*" if m["norm_ablation"]["overall"]["p_value"] < 0.05 else "")
            for _, m in with_both) + " |")
    lines += ["", "Δ in points with its 95% interval (Newcombe's score intervals, paired on shared items). `*`: significant "
              "at 5% (exact McNemar on shared items, else an interval excluding zero). (n=…) marks a share over few items.", ""]
    return "\n".join(lines)
