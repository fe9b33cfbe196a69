"""A loop folder: ``loop.yaml``, ``round-0/`` (the starting model's evaluation), ``round-1/`` ... and the report.

A round's files, each written whole (atomically) by its step::

    round-K/instructions.jsonl   the round's new instructions
    round-K/responses.jsonl      every answer (ids ITEM~s0, ITEM~s1 plain; ITEM~d0 with the system prompt)
    round-K/cache.sqlite         every model answer as it arrived (a killed round asks no model twice)
    round-K/ratings.jsonl        every rating; one ``role: final`` rating per answer is its rank
    round-K/pairs.jsonl          preference pairs, ties discarded
    round-K/sft.jsonl            the answers ranked 0-1
    round-K/sft/, round-K/dpo/   the training runs (adapter/, merged/, checkpoints/, train_metrics.json)
    round-K/eval/                a ``celm eval`` run folder
    round-K/steps.json           which steps are done, with their figures, timings and the rater

A step is done when ``steps.json`` says so; it is written after the step's files, so a step killed
half-way is run again, and its own resumption (generation cache, training checkpoints, the rater's
partial file, the eval cache) keeps the work already done.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from celm.data.io import write_json, write_text
from celm.loop.config import LoopConfig

STEPS = ("instructions", "responses", "ratings", "pairs", "sft", "dpo", "eval")
#: settings that may change between runs of one folder: they change how long we wait, not what is made
_MUTABLE = {("rounds",), ("rater", "poll_s"), ("rater", "timeout_s")}


class _File:
    """A path inside a loop's or a round's folder, named once."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, folder, owner=None) -> Path:
        return folder.path / self.name


class RoundFolder:
    instructions_jsonl = _File("instructions.jsonl")
    responses_jsonl = _File("responses.jsonl")
    cache_sqlite = _File("cache.sqlite")
    ratings_jsonl = _File("ratings.jsonl")
    ratings_partial_jsonl = _File("ratings.partial.jsonl")  # the automatic rater's chunks, as they are judged
    app_batch_json = _File("app-batch.json")  # the app rater's batch, once imported
    pairs_jsonl = _File("pairs.jsonl")
    sft_jsonl = _File("sft.jsonl")
    sft_dir = _File("sft")
    dpo_dir = _File("dpo")
    eval_dir = _File("eval")
    steps_json = _File("steps.json")

    def __init__(self, path: str | Path, number: int):
        self.path = Path(path)
        self.number = number

    def steps(self) -> dict[str, Any]:
        return json.loads(self.steps_json.read_text(encoding="utf-8")) if self.steps_json.exists() else {}

    def done(self, step: str) -> dict[str, Any] | None:
        return self.steps().get(step)

    def mark(self, step: str, **figures: Any) -> dict[str, Any]:
        steps = self.steps()
        steps[step] = {**figures, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        write_json(self.steps_json, steps)
        return steps[step]

    @property
    def complete(self) -> bool:
        steps = self.steps()
        return "eval" in steps and (self.number == 0 or all(s in steps for s in STEPS))

    @property
    def model_after(self) -> str | None:
        """The model spec this round ends with (the next round starts from it); the DPO step records it,
        the input model itself when training was skipped."""
        return self.steps().get("dpo", {}).get("model")


class LoopFolder:
    config_yaml = _File("loop.yaml")
    summary_json = _File("rounds.json")
    report_md = _File("report.md")
    report_html = _File("report.html")

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def round(self, number: int) -> RoundFolder:
        return RoundFolder(self.path / f"round-{number}", number)

    def rounds(self) -> list[RoundFolder]:
        """The rounds that exist, in order."""
        found = []
        for p in self.path.glob("round-*"):
            suffix = p.name.split("-", 1)[1]
            if p.is_dir() and suffix.isdigit():
                found.append(RoundFolder(p, int(suffix)))
        return sorted(found, key=lambda r: r.number)

    @staticmethod
    def is_loop(path: str | Path) -> bool:
        return (Path(path) / "loop.yaml").exists()

    def config(self) -> LoopConfig:
        from celm.loop.config import load_loop_config

        return load_loop_config(self.config_yaml)

    def start(self, config: LoopConfig) -> None:
        """Write loop.yaml, or check that a folder being resumed was started with the same settings."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.config_yaml.exists():
            before = _flatten(self.config().model_dump(mode="json"))
            now = _flatten(config.model_dump(mode="json"))
            changed = sorted(".".join(k) for k in set(before) | set(now) if before.get(k) != now.get(k) and k not in _MUTABLE)
            if changed:
                raise ValueError(f"{self.path} was started with other settings ({', '.join(changed)}); "
                                 "resume it with its own loop.yaml, or start a new folder")
        write_text(self.config_yaml, config.to_yaml())


def _flatten(d: dict, prefix: tuple = ()) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "settings":
            out.update(_flatten(v, prefix + (k,)))
        else:
            out[prefix + (k,)] = v
    return out
