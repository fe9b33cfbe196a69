"""Where generation and judging run: Ray workers (``ray`` is an address) or this process.

The one place that makes the choice, for ``celm generate``, ``celm judge`` and ``celm eval``: each
takes ``ray`` (None for this process) and ``workers`` from its config and opens the backend here.
Ray backends hold a cluster's CPUs/GPUs, so they are closed on leaving the block; a local backend
holds nothing another process waits for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from celm.judge.base import Judge
from celm.models.base import ModelBackend


@contextmanager
def model_backend(spec: str | None, *, ray: str | None = None, workers: int | None = None,
                  log: Callable[[str], None] = print) -> Iterator[ModelBackend]:
    """The model behind ``spec``: a pool of Ray workers when ``ray`` names a cluster, else loaded here."""
    if not ray:
        from celm.models import get_model

        yield get_model(spec)
        return
    from celm.scale.cluster import describe
    from celm.scale.generate import RayBackend

    backend = RayBackend(spec, address=ray, workers=workers)
    log(f"{describe()}; up to {backend.pool.workers} worker(s) for {backend.model_id}")
    try:
        yield backend
    finally:
        backend.close()  # frees the workers' CPUs/GPUs (for the judge, in an evaluation)


@contextmanager
def judge_backend(spec: str | None, *, ray: str | None = None, workers: int | None = None) -> Iterator[Judge]:
    """The judge behind ``spec``: Ray workers when ``ray`` names a cluster, else loaded here."""
    if not ray:
        from celm.judge import get_judge

        yield get_judge(spec)
        return
    from celm.scale.judge import RayJudge

    judge = RayJudge(spec, address=ray, workers=workers)
    try:
        yield judge
    finally:
        judge.close()
