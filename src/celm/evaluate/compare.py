"""Compare runs side by side in the layout of the paper's tables 3-6.

Differences against the first run are compared on the same items when the runs share them
(Newcombe's paired score interval and the exact McNemar test), otherwise as independent shares
(Newcombe's hybrid score interval); ``*`` marks p < 0.05 / an interval that excludes zero.
Runs from before the fourth verdict (no ``irrelevant`` / ``helpful_safe`` in metrics.json) show "–"
for those shares and their differences: their judge could not say irrelevant.
Table 3 shows the share of each verdict; tables 4 and 6 every metric registered as ``compared``
(celm.evaluate.registry) with its difference, then the figures over other prompts (benign).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from celm.data.records import SAFETY_LABELS
from celm.evaluate.log import EvalLog, RunFolder, Share
from celm.evaluate.metrics import flags
from celm.evaluate.registry import figure, get_metric, registered, summary
from celm.evaluate.stats import difference_unpaired, format_difference, format_share, paired_difference


def _load(folder: Path) -> tuple[EvalLog, dict]:
    run = RunFolder(folder)
    log = run.log()
    judgements = {arm: {j.item_id: j for j in run.judgements(arm) if j.kind == "attack"} for arm in log.arms}
    return log, judgements


def _share_pct(d: Share | None) -> str:
    return "–" if d is None or not d.n else f"{d.value * 100:.2f}"


def _delta_vs_first(ref: dict, other: dict, name: str = "acc_eval") -> str:
    """The share ``name`` of ``other`` minus that of ``ref`` (judgements by item id), with its interval."""
    common = sorted(set(ref) & set(other))
    if len(common) >= 0.9 * max(len(ref), len(other)) and common:
        d = paired_difference(flags((ref[i].label for i in common), name), flags((other[i].label for i in common), name))
        return format_difference(d.to_dict(), significant_mark="*" if d.significant else "") + " paired"
    diff, lo, hi, sig = difference_unpaired(flags((j.label for j in ref.values()), name), flags((j.label for j in other.values()), name))
    return format_difference({"diff": diff, "low": lo, "high": hi}, significant_mark="*" if sig else "")


def expand_loops(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> tuple[list[Path], list[str | None]]:
    """Run folders, with each loop folder (celm loop) replaced by its rounds' evaluations in order,
    labelled ``NAME round K``; a plain run folder keeps its label (None: its model's name)."""
    from celm.loop.folder import LoopFolder

    labels = list(labels or [])
    paths, names = [], []
    for k, folder in enumerate(map(Path, folders)):
        label = labels[k] if k < len(labels) else None
        if not LoopFolder.is_loop(folder):
            paths.append(folder)
            names.append(label)
            continue
        rounds = [rf for rf in LoopFolder(folder).rounds() if rf.done("eval")]
        if not rounds:
            raise ValueError(f"{folder}: a loop folder with no finished round yet")
        for rf in rounds:
            paths.append(rf.eval_dir)
            names.append(f"{label or folder.name} round {rf.number}")
    return paths, names


def compare_runs(folders: Sequence[str | Path], labels: Sequence[str] | None = None) -> str:
    """Markdown tables comparing run folders; a loop folder stands for each of its rounds."""
    paths, given = expand_loops(folders, labels)
    runs = [_load(p) for p in paths]
    names = [name or log.model for name, (log, _) in zip(given, runs)]
    ref_log, ref_j = runs[0]
    ref_arm = ref_log.first_arm
    verdicts = [get_metric(v) for v in SAFETY_LABELS]
    lines = ["## Safe / Reject / Risk / Irrelevant (paper table 3)", "",
             "| run | " + " | ".join(v.en for v in verdicts) + " | " + " | ".join(f"China {v.en}" for v in verdicts)
             + " | n |", "|---" * (2 * len(verdicts) + 2) + "|"]
    for name, (log, _) in zip(names, runs):
        for arm, a in log.arms.items():
            cells = [_share_pct(figure(a, v, subset)) for subset in ("attacks", "china_centric") for v in verdicts]
            lines.append(f"| {name}{' (norms)' if arm == 'norms' else ''} | " + " | ".join(cells) + f" | {a.overall.n} |")
    compared = [m for m in registered() if m.compared]
    # figures shown without a difference: those over other prompts than the attacks (over-refusal, benign helpful & safe)
    others = [r for r in summary(ref_log.arms[ref_arm]) if r["subset"] not in ("attacks", "china_centric")]
    lines += ["", "## Acc_eval and helpful & safe against the first run (paper tables 4 and 6)", "",
              "Acc_eval counts every answer not judged risky; helpful & safe only the relevant, harmless ones (a model "
              "that babbles is not as safe as one that answers well).", "",
              "| run | benchmarks | " + " | ".join(f"{m.en} [95% CI] | Δ {m.en} (points)" for m in compared)
              + "".join(f" | {r['title'][0]}" for r in others) + " |", "|---" * (2 * len(compared) + len(others) + 2) + "|"]
    for k, (name, (log, j)) in enumerate(zip(names, runs)):
        arm = "base" if "base" in log.arms else log.first_arm
        o = log.arms[arm].overall
        cells = []
        for m in compared:
            known = all(s is not None and s.measured for s in (o.share(m.name), ref_log.arms[ref_arm].overall.share(m.name)))
            delta = "—" if k == 0 else _delta_vs_first(ref_j[ref_arm], j[arm], m.name) if known else "–"
            cells += [format_share(o.share(m.name)), delta]
        cells += [_share_pct(figure(log.arms[arm], r["metric"], r["subset"])) for r in others]
        lines.append(f"| {name} | {', '.join(log.benchmarks)} | " + " | ".join(cells) + " |")
    with_both = [(name, log) for name, (log, _) in zip(names, runs) if log.norm_ablation]
    if with_both:
        lines += ["", "## With and without norms (paper table 5)", "", "| | " + " | ".join(n for n, _ in with_both) + " |",
                  "|---" * (len(with_both) + 1) + "|"]
        lines.append("| w/o norm | " + " | ".join(_share_pct(log.arms["base"].overall.share("acc_eval")) for _, log in with_both) + " |")
        lines.append("| w norm | " + " | ".join(_share_pct(log.arms["norms"].overall.share("acc_eval")) for _, log in with_both) + " |")
        lines.append("| Δ (paired) | " + " | ".join(
            format_difference(log.norm_ablation["overall"], significant_mark="*" if log.norm_ablation["overall"]["p_value"] < 0.05 else "")
            for _, log in with_both) + " |")
    lines += ["", "Δ in points with its 95% interval (Newcombe's score intervals, paired on shared items). `*`: significant "
              "at 5% (exact McNemar on shared items, else an interval excluding zero). (n=…) marks a share over few items. "
              "– : a run from before the fourth verdict (irrelevant) has no such share.", ""]
    return "\n".join(lines)
