"""Ray actors that each hold one model backend or one judge, and the pool that feeds them.

The driver (the process that ran ``celm generate``/``eval``/``judge score``) keeps every piece of
state that matters: it shards the work into chunks, takes results as they arrive (``ray.wait``) and
writes them itself (the run folder's SQLite cache, the output files). A worker only computes, so
losing one loses nothing committed: its unfinished chunks go to a replacement worker.

Workers are built from the same spec strings as everywhere else in celm (``hf:``, ``vllm:``,
``openai:``, ``gguf:``, ``builtin``...), or from a zero-argument factory for backends outside the
registries; a factory must be importable (or picklable) on the workers.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self

from pydantic import BaseModel

#: a worker's replacements before the pool gives up (a chunk that kills every worker it meets,
#: e.g. out of memory, must not loop forever)
MAX_RESTARTS = 3
#: chunks handed to each worker at once: one running, one queued, so a worker never waits for the
#: driver between chunks
DEPTH = 2


class WorkerLostError(RuntimeError):
    """Workers kept dying: the pool gave up after its bounded number of replacements."""



class WorkerInfo(BaseModel):
    """What a worker tells the driver once it has built its backend or judge."""

    pid: int
    host: str
    spec: str
    #: backend: what goes into the cache key and every Response; judge: its judge_id
    model_id: str
    cache_identity: str = ""
    batch_size: int = 1
    is_async: bool = False


class _Worker:
    """Builds the thing it serves once; an error while building is kept and raised by every call,
    so the driver sees the real error (a bad spec, a missing model) rather than a dead actor."""

    def __init__(self, make: str | Callable[[], Any]):
        self.error: Exception | None = None
        self.served = None
        try:
            self.served = self._build(make) if isinstance(make, str) else make()
        except Exception as exc:  # noqa: BLE001 - re-raised by every call, see _ready
            self.error = exc

    def _build(self, spec: str):
        raise NotImplementedError

    def _ready(self):
        if self.error is not None:
            raise self.error
        return self.served

    def pid(self) -> int:
        return os.getpid()


class BackendWorker(_Worker):
    """One model backend; answers a chunk of requests with exactly the code a local run uses."""

    def _build(self, spec: str):
        from celm.models.registry import get_model

        return get_model(spec)

    def info(self) -> WorkerInfo:
        b = self._ready()
        return WorkerInfo(pid=os.getpid(), host=socket.gethostname(), spec=b.spec, model_id=b.model_id,
                          cache_identity=b.cache_identity, batch_size=b.batch_size, is_async=b.is_async)

    def generate(self, requests: Sequence, concurrency: int = 8) -> list:
        """Results for ``requests`` in their order. The runner's own loops do the work, so a chunk of
        ``batch_size`` requests is one ``generate_batch`` call, as in a local run (same batches, same
        padding, same answers); a backend crash becomes per-item errors there too."""
        import asyncio

        from celm.models.runner import _run_async, _run_batches

        backend = self._ready()
        out: dict[int, Any] = {}

        def record(index, request, result):
            out[index] = result

        pending = list(enumerate(requests))
        if backend.is_async:
            asyncio.run(_run_async(backend, pending, record, concurrency, lambda: None))
        else:
            _run_batches(backend, pending, record, lambda n: None)
        return [out[i] for i in range(len(requests))]


class JudgeWorker(_Worker):
    """One judge; judges a chunk of (instruction, response) pairs."""

    def _build(self, spec: str):
        from celm.judge import get_judge

        return get_judge(spec)

    def info(self) -> WorkerInfo:
        j = self._ready()
        return WorkerInfo(pid=os.getpid(), host=socket.gethostname(), spec=getattr(j, "spec", "") or j.judge_id,
                          model_id=j.judge_id)

    def judge(self, instructions: Sequence[str], responses: Sequence[str]) -> list:
        return self._ready().judge_many(instructions, responses)


def unwrap(exc: BaseException) -> BaseException:
    """The exception a worker raised, without Ray's wrapper (whose text is the remote traceback),
    so the CLI shows ``error: unknown model backend 'hff'`` as it would locally."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


class OnPool:
    """What runs on a ``WorkerPool`` (``self.pool``): ``close()`` frees its actors; a context manager that closes."""

    pool: WorkerPool

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WorkerPool:
    """Up to ``workers`` actors of one worker class, all built from ``make``.

    ``stream`` runs many calls of one method over the pool and yields each result as it arrives.
    When an actor dies (its process killed, its node lost), a replacement takes its slot and the
    calls it had not finished are sent again; a slot is replaced at most ``max_restarts`` times."""

    def __init__(self, ray, worker_cls: type, make: str | Callable[[], Any], *, workers: int, num_cpus: float = 1,
                 num_gpus: float = 0, max_restarts: int = MAX_RESTARTS, depth: int = DEPTH):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.ray = ray
        self.remote_cls = ray.remote(worker_cls)
        self.make = make
        self.workers = workers
        self.options = {"num_cpus": num_cpus, "num_gpus": num_gpus}
        self.max_restarts = max_restarts
        self.depth = max(1, depth)
        self.actors: list = []
        self.infos: list[WorkerInfo] = []
        self.restarts: list[int] = []

    @property
    def total_restarts(self) -> int:
        return sum(self.restarts)

    def _new_actor(self):
        return self.remote_cls.options(**self.options).remote(self.make)

    def _get(self, refs):
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as exc:
            raise unwrap(exc) from None

    def ensure(self, n: int | None = None) -> list[WorkerInfo]:
        """Start workers until ``n`` (at most ``workers``) exist. Started lazily, so a run served from
        the cache builds one worker (to learn the model's identity), not many. Only the first is
        waited for: the others take work as soon as the cluster has room for them, and an error
        while building one reaches the driver with its first result."""
        n = self.workers if n is None else max(1, min(n, self.workers))
        if not self.actors:
            first = self._new_actor()
            try:
                self.infos.append(self._get(first.info.remote()))
            except BaseException:
                self.ray.kill(first)
                raise
            self.actors.append(first)
            self.restarts.append(0)
        while len(self.actors) < n:
            self.actors.append(self._new_actor())
            self.infos.append(self.infos[0])  # same spec, same model; pids() asks each its pid
            self.restarts.append(0)
        return list(self.infos)

    def _replace(self, slot: int, calls: list) -> None:
        self.restarts[slot] += 1
        if self.restarts[slot] > self.max_restarts:
            raise WorkerLostError(
                f"a Ray worker serving {self.infos[slot].spec} died {self.restarts[slot]} times, last while working on "
                f"chunk(s) {sorted(calls)}; gave up after {self.max_restarts} "
                "replacements. Finished results are saved: fix the cause (often memory) and run again to resume")
        self.ray.kill(self.actors[slot], no_restart=True)
        # the replacement builds the same spec, so infos[slot] still says what it serves (pids() has its pid)
        self.actors[slot] = self._new_actor()

    def stream(self, method: str, calls: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        """``(i, result)`` for every ``calls[i]`` (positional arguments of ``method``), in the order
        the results arrive. Every call is answered exactly once, whatever workers die meanwhile."""
        ray = self.ray
        self.ensure(len(calls))
        queue = deque(range(len(calls)))
        # ref -> (slot, the actor it was sent to, call index)
        inflight: dict[Any, tuple[int, Any, int]] = {}
        try:
            while queue or inflight:
                for slot, actor in enumerate(self.actors):
                    busy = sum(1 for s, _, _ in inflight.values() if s == slot)
                    while queue and busy < self.depth:
                        i = queue.popleft()
                        inflight[getattr(actor, method).remote(*calls[i])] = (slot, actor, i)
                        busy += 1
                (ref,), _ = ray.wait(list(inflight), num_returns=1)
                slot, actor, i = inflight.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayActorError:
                    queue.appendleft(i)  # sent again, first, to whichever worker is free
                    if self.actors[slot] is actor:  # the first of this actor's calls to fail replaces it
                        lost = [j for s, a, j in inflight.values() if a is actor] + [i]
                        self._replace(slot, lost)
                    continue
                except ray.exceptions.RayTaskError as exc:
                    raise unwrap(exc) from None
                yield i, result
        finally:
            for ref in inflight:  # an early exit (fail-fast, Ctrl-C): drop queued work
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001 - best effort; close() kills the actors anyway
                    pass

    def pids(self) -> list[int]:
        """The workers' process ids (tests kill one)."""
        return self._get([a.pid.remote() for a in self.actors])

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone, or Ray already shut down
                pass
        self.actors, self.infos, self.restarts = [], [], []


def default_workers(ray, gpus_per_worker: float = 0) -> int:
    """As many workers as the cluster has CPUs (one each), or GPUs for GPU backends. The cluster's
    total, not what is free now: a worker that finds no room waits for it, the others work meanwhile."""
    res = ray.cluster_resources()
    if gpus_per_worker > 0:
        return max(1, int(res.get("GPU", 0) // gpus_per_worker))
    return max(1, int(res.get("CPU", 1)))
