"""Training judges (``celm judge train``): ``train_judge(JudgeTrainConfig(...))`` (:mod:`.run`) and one
module per recipe, registered by the name ``--kind`` takes:

- ``fourway`` (:mod:`.fourway`): the four-verdict pair judge, the shipped default;
- ``probe`` (:mod:`.probe`): a probe over a chat model's hidden states;
- ``pair-v2`` (:mod:`.pair_v2`): the three-verdict linear judge.

What the recipes share lives in :mod:`.common` (the report, source weights, the embedded subset) and
:mod:`.examples` (records to labelled examples, the leakage check). A new recipe is a module with a
``RECIPE`` (:class:`.common.Recipe`) and one line in :data:`TRAINERS`.
"""

from __future__ import annotations

from celm.registry import Registry

TRAINERS: Registry = Registry("judge training recipe")
TRAINERS.register("fourway", "celm.judge.training.fourway:RECIPE", "the four-verdict pair judge (the shipped default)")
TRAINERS.register("probe", "celm.judge.training.probe:RECIPE", "four verdicts from a chat model's hidden states")
TRAINERS.register("pair-v2", "celm.judge.training.pair_v2:RECIPE", "the three-verdict linear judge")

# the names scripts import from the package
from celm.judge.training.common import TrainReport, source_weights  # noqa: E402
from celm.judge.training.examples import (  # noqa: E402
    LeakageError,
    check_leakage,
    ratings_to_judge_examples,
    sft_to_judge_examples,
    to_judge_examples,
    without_batches,
)
from celm.judge.training.pair_v2 import train_builtin  # noqa: E402
from celm.judge.training.run import JudgeTrainConfig, TrainResult, train_judge  # noqa: E402

__all__ = ["TRAINERS", "JudgeTrainConfig", "LeakageError", "TrainReport", "TrainResult", "check_leakage",
           "ratings_to_judge_examples", "sft_to_judge_examples", "source_weights", "to_judge_examples", "train_builtin",
           "train_judge", "without_batches"]
