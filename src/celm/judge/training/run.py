"""Training a judge from one config: ``train_judge(JudgeTrainConfig(...))`` is ``celm judge train``.

It reads the training records, turns them into labelled examples, refuses (or, with
``drop_overlap``, drops) examples that near-duplicate the prompts the judge will score, trains with
the recipe ``kind`` names (:data:`celm.judge.training.TRAINERS`), writes the weights with a card that
says how they were made, and returns what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celm.data.records import JudgeExample
from celm.judge.training.common import TrainReport
from celm.judge.training.examples import LeakageError, check_leakage, to_judge_examples, without_batches
from celm.judge.models.fourway import DEFAULT_FEATURES
from celm.judge.training.probe import DEFAULT_LAYER, DEFAULT_MODEL
from celm.settings import setting

#: what the judge will score unless told otherwise: its training must not hold these prompts
DEFAULT_EVAL_SET = "celm-bench"


@dataclass
class JudgeTrainConfig:
    """What ``celm judge train`` does. Each field's type, default and help live here once: the
    command's options are made from these fields (celm.cli.judge)."""

    output: Path = setting(..., "weights file to write (.npz)", "--output", "-o")
    data: list[Path] = setting([], "JudgeExample, PreferencePair, LabelledResponse, SFTExample, Rating+Response files; "
                               "repeatable", "--data", "-d")
    source: list[str] = setting([], "registered sources to train on, e.g. cold-train jade-v3 celm-judge; repeatable",
                                "--source")
    kind: str = setting("fourway", "fourway: the four-verdict pair judge (safe/reject/risk/irrelevant); probe: four "
                        "verdicts from a chat model's hidden states (--probe-model, --layer); pair-v2: the three-verdict "
                        "judge (--pair)")
    eval_set: list[str] = setting([DEFAULT_EVAL_SET], "sources or files the judge will score; near-duplicate training "
                                  "instructions are refused ('none': no check); repeatable", "--eval-set")
    drop_overlap: bool = setting(False, "drop overlapping training examples instead of refusing")
    exclude_batch: list[str] = setting([], "leave out labelled responses of this labelling batch (celm-responses: table4), "
                                       "to measure the judge on them afterwards; repeatable", "--exclude-batch")
    embeddings: bool = setting(True, "fourway, pair-v2: also train the embedding model (--no-embeddings: only the cheap "
                               "n-gram model)")
    request_pool: bool = setting(True, "fourway: learn how harmful a request looks from the public prompt sets")
    features: int = setting(DEFAULT_FEATURES, "fourway: feature set: 1 reads what the response adds (the shipped weights); 2 adds the "
                            "stance block and the words it copies from the request; 3 adds the keyword block")
    pair: bool = setting(False, "pair-v2: the embedding model also reads the instruction: use it when you train on "
                         "ordinary helpful answers beside safety data (slower: two embeddings per uncertain item)", "--pair")
    probe_model: str = setting(DEFAULT_MODEL, "probe: the chat model that reads the pairs (gguf:NAME, hf:PATH)")
    layer: int = setting(DEFAULT_LAYER, "probe: the hidden layer whose mean state the probe reads")
    device: str = setting("auto", "probe: where the chat model runs (auto, cpu, cuda)")
    seed: int = setting(0, "seed of the held-out split and of the models")

    def __post_init__(self) -> None:
        from celm.judge.training import TRAINERS

        self.output = Path(self.output)
        self.data = [Path(p) for p in self.data]
        TRAINERS.get(self.kind)  # an unknown kind fails here, before any data is read (with a did-you-mean)


@dataclass
class TrainResult:
    model: Any
    report: TrainReport
    #: ids of the training examples left out because they near-duplicate the evaluation set
    dropped: list[str] = field(default_factory=list)


def load_examples(config: JudgeTrainConfig) -> list[JudgeExample]:
    """The labelled examples of the config's files and sources, its excluded batches left out."""
    from celm.data.io import read_many
    from celm.data.sources import load_source

    records = list(read_many(config.data))
    for name in config.source:
        records += load_source(name)
    examples = to_judge_examples(without_batches(records, config.exclude_batch))
    if not examples:
        raise ValueError("no training examples: give --data files or --source names")
    return examples


def eval_prompts(eval_sets: Sequence[str]) -> list[str]:
    """The text of every item of the sources or files the judge will score (``none``: nothing)."""
    from celm.data.sources import load_file_or_source
    from celm.data.stats import primary_text

    prompts: list[str] = []
    for name in eval_sets:
        if name != "none":
            prompts += [primary_text(r) for r in load_file_or_source(name)]
    return prompts


def without_leakage(examples: list[JudgeExample], prompts: Sequence[str], *, drop: bool,
                    log: Callable[[str], Any] = print) -> tuple[list[JudgeExample], list[str]]:
    """(the examples to train on, ids dropped). A judge must not train on what it will judge:
    near-duplicates of ``prompts`` raise :class:`LeakageError`, or with ``drop`` are left out."""
    leaks = check_leakage(examples, prompts)
    if not leaks:
        return examples, []
    if not drop:
        shown = "\n".join(f"  {i}: ~{p[:40]} ({s:.2f})" for i, p, s in leaks[:10])
        raise LeakageError(f"{len(leaks)} training example(s) near-duplicate the evaluation set; the judge must not "
                           f"train on what it will judge (use --drop-overlap to drop them):\n{shown}")
    bad = {i for i, _, _ in leaks}
    log(f"dropped {len(bad)} examples that overlap the evaluation set")
    return [e for e in examples if e.id not in bad], sorted(bad)


def card_command(config: JudgeTrainConfig) -> str:
    """The ``celm judge train`` command the model card records: the sources, the recipe, the held-out
    batches and the recipe's own flags (files given with --data are local, so they are not named)."""
    from celm.judge.training import TRAINERS

    parts = ["celm judge train", *(f"--source {s}" for s in config.source), f"--kind {config.kind}",
             *(f"--exclude-batch {b}" for b in config.exclude_batch)]
    return " ".join(parts) + TRAINERS.get(config.kind).flags(config)


def train_judge(config: JudgeTrainConfig, log: Callable[[str], Any] = print) -> TrainResult:
    """Train the judge ``config`` describes and write its weights to ``config.output`` (atomically:
    a refused or failed run leaves no file)."""
    from celm.judge.training import TRAINERS

    recipe = TRAINERS.get(config.kind)
    examples, dropped = without_leakage(load_examples(config), eval_prompts(config.eval_set), drop=config.drop_overlap,
                                        log=log)
    model, report = recipe.train(examples, config, log)
    model.card = {"command": card_command(config), "counts": report.counts, "validation": report.validation,
                  "thresholds": report.thresholds}
    model.save(config.output)
    return TrainResult(model=model, report=report, dropped=dropped)
