"""Generation on Ray: a model spec served by many actors, driven by celm's ordinary runner.

``RayBackend`` looks to ``generate_responses`` like the backend it serves: the same ``model_id``
and ``cache_identity`` (asked of a worker, so the driver never loads the weights), hence the same
cache keys, the same Responses and the same run folder as a local run. The runner sends it only the
items missing from the cache and records each result in the driver as it arrives
(celm.models.runner._run_ray), so resume and "never ask twice" hold as they do locally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from celm.models.base import GenerationRequest, GenerationResult, ModelBackend
from celm.scale.actors import BackendWorker, OnPool, WorkerPool, default_workers

#: backends that want a GPU each when the cluster has GPUs (their ``device`` option may say cpu)
GPU_BACKENDS = ("hf", "gguf", "vllm")


def gpus_for(spec: str | Callable, cluster_gpus: float) -> float:
    """GPUs per worker for a spec: vLLM's tensor_parallel_size (or 1); 1 for hf/gguf unless
    ``device=cpu``; none on a cluster without GPUs, for remote APIs and for factories."""
    if not isinstance(spec, str) or cluster_gpus <= 0:
        return 0
    from celm.models.registry import parse_spec

    name, _, options = parse_spec(spec)
    if name not in GPU_BACKENDS or options.get("device", "auto") == "cpu":
        return 0
    return float(options.get("tensor_parallel_size") or 1) if name == "vllm" else 1


class RayBackend(OnPool, ModelBackend):
    """``spec`` (or a zero-argument factory returning a backend) on ``workers`` Ray actors.

    ``address``: ``"local"`` starts a Ray on this machine, anything else joins that cluster
    (celm.scale.cluster.connect). ``workers``: default one per CPU of the cluster, or per GPU (``gpus_per_worker``
    each) for local GPU backends. Use it as a context manager, or call ``close()``, to free the actors."""

    #: the runner hands this backend its whole pending list (celm.models.runner._run_ray)
    distributed = True

    def __init__(self, spec: str | Callable[[], ModelBackend] | None = None, *, address: str | None = "local",
                 workers: int | None = None, gpus_per_worker: float | None = None, max_restarts: int | None = None,
                 chunk_size: int | None = None):
        from celm.models.registry import DEFAULT_MODEL
        from celm.scale.actors import MAX_RESTARTS
        from celm.scale.cluster import connect

        ray = connect(address)
        spec = spec or DEFAULT_MODEL
        gpus = gpus_for(spec, ray.cluster_resources().get("GPU", 0)) if gpus_per_worker is None else gpus_per_worker
        self.pool = WorkerPool(ray, BackendWorker, spec, workers=workers or default_workers(ray, gpus), num_gpus=gpus,
                               max_restarts=MAX_RESTARTS if max_restarts is None else max_restarts)
        info = self.pool.ensure(1)[0]  # one worker says what the model is; more start when there is work
        super().__init__(info.spec)
        self.info = info
        self.batch_size = info.batch_size
        self.is_async = False  # the actors drive async backends themselves; the runner sees one backend
        self.chunk_size = chunk_size

    @property
    def model_id(self) -> str:
        return self.info.model_id

    @property
    def cache_identity(self) -> str:
        return self.info.cache_identity

    def describe(self) -> dict:
        return {"spec": self.spec, "model_id": self.model_id, "ray_workers": self.pool.workers}

    def _chunk(self, concurrency: int) -> int:
        # Chunks of the backend's own batch size are the batches a local run makes, so batched
        # backends (left padding) see the same inputs and answer the same; an async backend gets
        # `concurrency` requests per chunk and keeps them all in flight on its worker.
        if self.chunk_size:
            return self.chunk_size
        return max(1, concurrency) if self.info.is_async else max(1, self.info.batch_size)

    def stream(self, requests: Sequence[GenerationRequest], *, concurrency: int = 8
               ) -> Iterator[tuple[list[int], list[GenerationResult]]]:
        """``(positions, results)`` chunk by chunk as workers finish them; every request is answered
        once, even when a worker dies (its chunk goes to a replacement)."""
        size = self._chunk(concurrency)
        starts = list(range(0, len(requests), size))
        calls = [(list(requests[s:s + size]), concurrency) for s in starts]
        for i, results in self.pool.stream("generate", calls):
            yield list(range(starts[i], starts[i] + len(results))), results

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        out: list[GenerationResult | None] = [None] * len(requests)
        for positions, results in self.stream(requests):
            for p, r in zip(positions, results):
                out[p] = r
        return out  # type: ignore[return-value]
