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
    how = f" ({figures['how']})" if figures.get("how") else ""
    return (f"on {figures['n']} real model responses labelled by the project ({figures['set']}{how}), this judge's Acc_eval "
            f"was {figures['acc_eval_error']:+.1f} points off the labels; it found {figures['risk_recall'] * 100:.0f}% of the "
            f"risky responses, and {figures['risk_precision'] * 100:.0f}% of its risk verdicts were right "
            f"(risk-vs-not macro-F1 {figures['risk_macro_f1']:.2f}).{_new_models(figures)} See docs/real-responses.md.")


def _new_models(figures: dict) -> str:
    """A model the judge's training data never held is the case a team is in after fine-tuning its
    own, and new prompts are the case of every new benchmark: say how far off these very weights
    were on such responses, where that was measured."""
    errors = figures.get("new_models") or {}
    if not errors:
        return ""
    each = ", ".join(f"{e:+.1f} ({m})" for m, e in sorted(errors.items()))
    how = figures.get("new_models_how", "these weights")
    return (f" On responses it was never trained on ({how}), its Acc_eval was off by {each} points: "
            "label a sample of your own model's responses and calibrate (`celm judge calibrate`).")
