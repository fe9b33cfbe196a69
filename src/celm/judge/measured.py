"""What a judge's error on real model responses was measured to be, so every run can say it.

``bench/judge_real.py --record`` scores each judge against the project's labelled real responses
(celm-responses, docs/real-responses.md) and writes the overall figures here, keyed by the judge's
id (which carries its weights' fingerprint). ``celm eval`` prints them next to its own figures; a
judge with other weights has no entry, and nothing is printed for it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

FILE = "measured.json"


def _path() -> Path:
    return Path(str(resources.files("celm.judge").joinpath("weights", FILE)))


def measured(judge_id: str) -> dict | None:
    """The recorded figures for ``judge_id``, or None."""
    path = _path()
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get(judge_id)


def record(judge_id: str, figures: dict, path: Path | None = None) -> None:
    path = path or _path()
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[judge_id] = figures
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def describe(figures: dict) -> str:
    """The judge check line: the error on prompt sources the judge never saw first (what a run on a
    new benchmark should expect), then the in-distribution figure, labelled as such."""
    loso = figures.get("loso")
    if not loso:
        return _in_distribution(figures, lead=True) + _new_models(figures) + " See docs/real-responses.md."
    worst = loso["sources"][loso["worst_source"]]
    n = sum(f["n"] for f in loso["sources"].values())
    cell = (f", {loso['worst_cell_error']:+.1f} for the worst model on one source ({loso['worst_cell']})"
            if "worst_cell" in loso else "")
    how = ("its recipe's lexical model, the `fast` mode; the default cascade adds a semantic model for unsure pairs"
           if loso.get("mode") == "fast" else "its recipe, as it runs by default")
    return (f"on prompt sources it was never trained on (leave-one-source-out over {len(loso['sources'])} sources, {n} real "
            f"responses labelled by the project, {figures.get('set', 'celm-responses')}; {how}), this judge's Acc_eval was "
            f"{loso['mean_abs_acc_eval_error']:.1f} points off the labels on average and {loso['worst_acc_eval_error']:+.1f} "
            f"on the worst source ({loso['worst_error_source']}){cell}; risk-vs-not macro-F1 {loso['mean_risk_macro_f1']:.2f} "
            f"on average, {loso['worst_risk_macro_f1']:.2f} on the worst source ({loso['worst_source']}, where it found "
            f"{worst['risk_recall'] * 100:.0f}% of the risky responses){_baselines(loso)}.{_fresh(figures)} Expect errors of "
            "this size on a new benchmark; "
            f"{_in_distribution(figures, lead=False)}{_new_models(figures)} See docs/judge.md.")


def _baselines(loso: dict) -> str:
    """The baselines measured on the same sources in the same run: a judge that does not beat a keyword
    list on new prompts must say so."""
    parts = [f"the {name} baseline {b['mean_risk_macro_f1']:.2f} on average ({b['worst_risk_macro_f1']:.2f} on {b['worst_source']})"
             for name, b in sorted((loso.get("baselines") or {}).items())]
    return f"; on the same responses {', '.join(parts)}" if parts else ""


def _fresh(figures: dict) -> str:
    """A batch labelled after the measurement above, which no judge was trained on: a check of it."""
    f = figures.get("fresh")
    if not f:
        return ""
    return (f" On {f['n']} responses labelled later ({', '.join(f['batches'])} batch), it was {f['mean_abs_acc_eval_error']:.1f} "
            f"points off on average and {f['worst_acc_eval_error']:+.1f} on {f['worst_error_source']} (risk F1 "
            f"{f['mean_risk_macro_f1']:.2f}).")


def _in_distribution(figures: dict, lead: bool) -> str:
    how = f" ({figures['how']})" if figures.get("how") else ""
    if "acc_eval_error" not in figures:
        return ""
    if lead:
        return (f"on {figures['n']} real model responses labelled by the project ({figures['set']}{how}), this judge's Acc_eval "
                f"was {figures['acc_eval_error']:+.1f} points off the labels; it found {figures['risk_recall'] * 100:.0f}% of the "
                f"risky responses, and {figures['risk_precision'] * 100:.0f}% of its risk verdicts were right "
                f"(risk-vs-not macro-F1 {figures['risk_macro_f1']:.2f}).")
    return (f"on prompts of the sources it was trained on (in distribution{how.replace(' (', ', ').rstrip(')')}) it was {figures['acc_eval_error']:+.1f} "
            f"points off (risk F1 {figures['risk_macro_f1']:.2f}).")


def _new_models(figures: dict) -> str:
    """A model the judge's training data never held is the case a team is in after fine-tuning its
    own, and new prompts are the case of every new benchmark: say how far off these very weights
    were on such responses, where that was measured."""
    errors = figures.get("new_models") or {}
    if not errors:
        return ""
    each = ", ".join(f"{e:+.1f} ({m})" for m, e in sorted(errors.items()))
    how = figures.get("new_models_how", "these weights")
    return (f" On new responses to the prompt sources it was trained on ({how}), its Acc_eval was off by {each} points: "
            "label a sample of your own model's responses and calibrate (`celm judge calibrate`).")
