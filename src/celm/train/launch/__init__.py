"""Accelerate / DeepSpeed launch configs shipped with celm (``celm train launch-config NAME``)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

NAMES = ("accelerate_single", "accelerate_multi_gpu", "deepspeed_zero2", "deepspeed_zero3")


def launch_config_path(name: str) -> Path:
    if name not in NAMES:
        raise ValueError(f"unknown launch config {name!r}; choose from {', '.join(NAMES)}")
    return Path(str(files(__package__) / f"{name}.yaml"))
