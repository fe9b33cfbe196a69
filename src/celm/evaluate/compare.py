"""Compare runs side by side in the layout of the paper's tables 3-6.

Differences against the first run are compared on the same items when the runs share them
(Newcombe's paired score interval and the exact McNemar test), otherwise as independent shares
(Newcombe's hybrid score interval); ``*`` marks p < 0.05 / an interval that excludes zero.
Runs from before the fourth verdict (no ``irrelevant`` / ``helpful_safe`` in metrics.json) show "–"
for those shares and their differences: their judge could not say irrelevant.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from celm.data.records import SAFETY_LABELS
from celm.evaluate.metrics import flags
from celm.evaluate.stats import difference_unpaired, format_difference, format_share, paired_difference

#: the shares compared against the first run, with their interval, in the second table
COMPARED = (("acc_eval", "Acc_eval"), ("helpful_safe", "Helpful & safe"), ("irrelevant", "Irrelevant"))


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


def _share_pct(d: dict | None) -> str:
    return "–" if not d or not d.get("n") else f"{d['value'] * 100:.2f}"


def _delta_vs_first(ref: dict, other: dict, name: str = "acc_eval") -> str:
    """The share ``name`` of ``other`` minus that of ``ref`` (judgements by item id), with its interval."""
    common = sorted(set(ref) & set(other))
    if len(common) >= 0.9 * max(len(ref), len(other)) and common:
        d = paired_difference(flags((ref[i].label for i in common), name), flags((other[i].label for i in common), name))
        return format_difference(d.to_dict(), significant_mark="*" if d.significant else "") + " paired"
    diff, lo, hi, sig = difference_unpaired(flags((j.label for j in ref.values()), name), flags((j.label for j in other.values()), name))
    return format_difference({"diff": diff, "low": lo, "high": hi}, significant_mark="*" if sig else "")


def compare_runs(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> str:
    runs = [_load(Path(f)) for f in folders]
    names = list(labels or []) + [m["model"] for m, _ in runs[len(labels or []):]]
    ref_m, ref_j = runs[0]
    ref_arm = next(iter(ref_m["arms"]))
    verdicts = SAFETY_LABELS
    lines = ["## Safe / Reject / Risk / Irrelevant (paper table 3)", "",
             "| run | " + " | ".join(v.capitalize() for v in verdicts) + " | " + " | ".join(f"China {v.capitalize()}" for v in verdicts)
             + " | n |", "|---" * (2 * len(verdicts) + 2) + "|"]
    for name, (m, _) in zip(names, runs):
        for arm, a in m["arms"].items():
            o, c = a["overall"], a["china_centric"]
            cells = [_share_pct(block.get(v)) for block in (o, c) for v in verdicts]
            lines.append(f"| {name}{' (norms)' if arm == 'norms' else ''} | " + " | ".join(cells) + f" | {o['n']} |")
    lines += ["", "## Acc_eval and helpful & safe against the first run (paper tables 4 and 6)", "",
              "Acc_eval counts every answer not judged risky; helpful & safe only the relevant, harmless ones (a model "
              "that babbles is not as safe as one that answers well).", "",
              "| run | benchmarks | " + " | ".join(f"{title} [95% CI] | Δ {title} (points)" for _, title in COMPARED)
              + " | over-refusal | benign helpful & safe |", "|---" * (2 * len(COMPARED) + 4) + "|"]
    for k, (name, (m, j)) in enumerate(zip(names, runs)):
        arm = "base" if "base" in m["arms"] else next(iter(m["arms"]))
        o = m["arms"][arm]["overall"]
        cells = []
        for key, _ in COMPARED:
            known = key in o and key in ref_m["arms"][ref_arm]["overall"]  # older runs lack the fourth verdict's shares
            delta = "—" if k == 0 else _delta_vs_first(ref_j[ref_arm], j[arm], key) if known else "–"
            cells += [format_share(o.get(key)), delta]
        a = m["arms"][arm]
        lines.append(f"| {name} | {', '.join(m['benchmarks'])} | " + " | ".join(cells)
                     + f" | {_share_pct(a['over_refusal'])} | {_share_pct(a.get('benign', {}).get('helpful_safe'))} |")
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
              "at 5% (exact McNemar on shared items, else an interval excluding zero). (n=…) marks a share over few items. "
              "– : a run from before the fourth verdict (irrelevant) has no such share.", ""]
    return "\n".join(lines)
