"""``builtin``: the judge that runs on CPU from NumPy weights: the shipped ones (the default),
shipped ones by name (``builtin:fourway-v4``, the previous release) or a file you trained
(``builtin:PATH``); option ``mode=fast|full|cascade``.

The weights file's kind picks the model (:mod:`celm.judge.models.weights`): ``fourway``, the
four-verdict pair judge of the shipped weights (:mod:`celm.judge.models.fourway`), or ``pair-v2``,
the three-verdict linear judge (:mod:`celm.judge.models.pair_v2`). Each mode runs its cheap model
alone (``fast``), its embedding model on every pair (``full``) or the embedding model only where the
cheap one is unsure (``cascade``, the default).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from celm.judge.base import Judge, Judgement
from celm.judge.models.weights import read_weights, shipped_path
from celm.models.registry import without_options

#: the shipped default: the four-verdict pair judge (celm.judge.models.fourway), trained on labelled real
#: model responses, the project's written examples and platform posts, and COLD train; see docs/judge.md
DEFAULT_WEIGHTS = "builtin-fourway-v5.npz"
#: shipped weights chosen by name, ``builtin:NAME``: the previous release's (without the platform posts)
BUNDLED_WEIGHTS = {"fourway-v4": "builtin-fourway-v4.npz"}
#: the weights kinds (celm.judge.models.weights) this judge runs: each model gives ``verdicts`` and a
#: ``judge_digest`` for the judge's id
KINDS = ("fourway", "pair-v2")


def default_weights_path(name: str | None = None) -> Path:
    return shipped_path(BUNDLED_WEIGHTS[name] if name else DEFAULT_WEIGHTS)


def load_model(path: str | Path | None = None):
    """The shipped weights (no path), shipped weights by name (``fourway-v4``), or a weights file."""
    if not path:
        path = default_weights_path()
    elif str(path) in BUNDLED_WEIGHTS and not Path(path).exists():
        path = default_weights_path(str(path))
    elif not Path(path).exists() and Path(path).suffix != ".npz" and "/" not in str(path):
        raise FileNotFoundError(f"{path}: no such weights file, and not the name of shipped weights "
                                f"({', '.join(BUNDLED_WEIGHTS)})")
    model = read_weights(path)
    if model.KIND not in KINDS:
        raise ValueError(f"{path}: {model.KIND} weights: judge with {model.KIND}:{path}")
    return model


class BuiltinJudge(Judge):
    """``builtin`` (shipped weights), ``builtin:fourway-v4`` (the previous release's weights) or
    ``builtin:PATH``; options ``mode=fast|full|cascade``."""

    def __init__(self, spec: str = "builtin", target: str = "", *, mode: str = "cascade", model=None, **_):
        if mode not in ("fast", "full", "cascade"):
            raise ValueError(f"judge mode must be fast, full or cascade, not {mode!r}")
        self.model = model or load_model(target or None)
        self.mode = mode
        self.judge_id = f"{without_options(spec)}#{mode}@{self.model.judge_digest}"

    def judge_many(self, instructions: Sequence[str], responses: Sequence[str]) -> list[Judgement]:
        responses, instructions = list(responses), list(instructions)
        if len(instructions) != len(responses):
            raise ValueError(f"{len(instructions)} instructions for {len(responses)} responses")
        if not responses:
            return []
        return self.model.verdicts(instructions, responses, self.mode, self.judge_id)
