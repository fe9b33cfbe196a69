"""``vllm:PATH_OR_NAME``: vLLM's offline engine for large batches on GPUs (``pip install celm[gpu]``).

Tensor parallel across the GPUs of one machine (``tensor_parallel_size``, default: all visible).
Across machines, serve with ``vllm serve`` behind a load balancer and use ``openai:MODEL@URL``.
Options: ``tensor_parallel_size``, ``dtype`` (auto), ``max_model_len``, ``gpu_memory_utilization``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from celm.models.base import GenerationRequest, GenerationResult, ModelBackend


class VLLMBackend(ModelBackend):
    batch_size = 1024  # vLLM schedules internally; hand it large batches

    def __init__(self, spec: str, target: str, *, tensor_parallel_size: str | int | None = None, dtype: str = "auto",
                 max_model_len: str | int | None = None, gpu_memory_utilization: str | float = 0.9, **_: str):
        super().__init__(spec)
        try:
            import vllm
        except ImportError as exc:
            raise ValueError("the vllm backend needs vLLM and a GPU: pip install 'celm[gpu]'") from exc
        import torch

        self.target = target
        kwargs = {"model": target, "dtype": dtype, "gpu_memory_utilization": float(gpu_memory_utilization),
                  "tensor_parallel_size": int(tensor_parallel_size or max(torch.cuda.device_count(), 1))}
        if max_model_len:
            kwargs["max_model_len"] = int(max_model_len)
        self.llm = vllm.LLM(**kwargs)
        self._vllm = vllm

    @property
    def model_id(self) -> str:
        return f"vllm:{self.target}"

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)
        groups: dict = {}
        for i, r in enumerate(requests):
            groups.setdefault(r.params, []).append(i)
        for p, indices in groups.items():
            sampling = self._vllm.SamplingParams(max_tokens=p.max_new_tokens, temperature=p.temperature, top_p=p.top_p,
                                                 stop=list(p.stop) or None, seed=p.seed)
            t0 = time.perf_counter()
            outs = self.llm.chat([[m.model_dump() for m in requests[i].messages] for i in indices], sampling, use_tqdm=False)
            per = (time.perf_counter() - t0) / max(len(indices), 1)
            for i, out in zip(indices, outs):
                c = out.outputs[0]
                results[i] = GenerationResult(text=c.text.strip(), finish_reason=c.finish_reason, latency_s=per,
                                              prompt_tokens=len(out.prompt_token_ids), completion_tokens=len(c.token_ids))
        return results  # type: ignore[return-value]
