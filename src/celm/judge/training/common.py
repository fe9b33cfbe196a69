"""What every training recipe shares: the report it returns, how sources are balanced, and which
examples get embedded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class TrainReport:
    """What a recipe says about its run: example counts, held-out figures, chosen thresholds."""

    counts: dict
    validation: dict
    thresholds: dict
    seconds: float


def source_weights(sources: Sequence[str], cap: float = 10.0) -> np.ndarray:
    """A weight per example by its source. Sources differ wildly in size (COLD has 25k comments, JADE
    1k answers), which pulls a naive model towards the big one; re-weighted, every source counts."""
    counts = Counter(sources)
    biggest = max(counts.values())
    # Every source gets the weight of a quarter of the biggest, within a per-example cap.
    per = {s: min(cap, max(1.0, biggest / 4 / n)) for s, n in counts.items()}
    return np.array([per[s] for s in sources])


def stable_subset(idx: np.ndarray, sources: np.ndarray, examples, per_source: int) -> np.ndarray:
    """Up to ``per_source`` indices per source, chosen by a hash of the example id: the same examples
    every time (so their embeddings come from the disk cache), independent of the order of the data."""
    import hashlib

    keep = []
    for s in np.unique(sources[idx]):
        members = idx[sources[idx] == s]
        ranked = sorted(members, key=lambda i: hashlib.sha1(examples[i].id.encode()).hexdigest())
        keep.extend(ranked[:per_source])
    return np.sort(np.array(keep, dtype=int))


@dataclass(frozen=True)
class Recipe:
    """A way to train a judge, registered by name in :data:`celm.judge.training.TRAINERS`.

    ``train(examples, config, progress)`` returns ``(model, report)``, the model being weights with
    a ``card`` and ``save(path)``; it reads its own settings from the ``JudgeTrainConfig``.
    ``flags(config)``: the options of ``celm judge train`` beyond sources and batches that the model
    card's command must repeat to train the same weights again."""

    train: Callable[..., tuple[Any, TrainReport]]
    flags: Callable[[Any], str] = lambda config: ""
