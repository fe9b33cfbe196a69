"""``hf:PATH_OR_NAME``: a local transformers model, batched with left padding.

Options (``hf:PATH?key=value&...``): ``dtype`` (auto | float32 | bfloat16 | float16), ``device``
(auto | cpu | cuda | cuda:1), ``batch_size``, ``template`` (auto | chat | plain), ``plain_template``
(for base models; ``{system}`` and ``{prompt}`` are filled in), ``repetition_penalty`` (default 1.0),
``stop_on_turn`` (plain template: stop when the model starts the next user turn; default true),
``trust_remote_code``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from celm.models.base import (
    GenerationRequest, GenerationResult, ModelBackend, length_sorted_batches, truncate_at_stop,
)
from celm.models.chat_format import PLAIN_STOP, PLAIN_TEMPLATE, PromptFormat, truthy

__all__ = ["PLAIN_STOP", "PLAIN_TEMPLATE", "HFBackend", "resolve_device_dtype"]


def weights_fingerprint(target: str) -> str:
    """Changes when a local model's weights are rewritten (a retrained model in the same folder), so
    the response cache never serves the old model's answers."""
    import hashlib

    folder = Path(target)
    if not folder.is_dir():
        return "remote"
    stats = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in folder.iterdir()
                   if f.suffix in (".safetensors", ".bin", ".pt", ".gguf"))
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:12]


def resolve_device_dtype(device: str = "auto", dtype: str = "auto"):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        if device.startswith("cuda"):
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        else:
            dtype = "float32"  # CPU half precision is slower and less accurate here
    return device, getattr(torch, dtype)


class HFBackend(ModelBackend):
    def __init__(self, spec: str, target: str, *, dtype: str = "auto", device: str = "auto", batch_size: str | int = 8,
                 template: str = "auto", plain_template: str = PLAIN_TEMPLATE, trust_remote_code: str = "false",
                 repetition_penalty: str | float = 1.0, stop_on_turn: str = "true",
                 model=None, tokenizer=None, **_: str):
        super().__init__(spec)
        self.target = target
        self.batch_size = int(batch_size)
        self.device, self.dtype = resolve_device_dtype(device, dtype)
        self.trust_remote_code = truthy(trust_remote_code)
        self.repetition_penalty = float(repetition_penalty)
        self.stop_on_turn = truthy(stop_on_turn)
        # The tokenizer loads now (cheap, and it decides the prompt format, hence the cache key);
        # the weights load on first use, so a run served from the cache never loads them.
        self._model = model
        self.tokenizer = tokenizer if tokenizer is not None else self._load_tokenizer()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.format = PromptFormat(self.tokenizer, template=template, plain_template=plain_template,
                                   stop_on_turn=self.stop_on_turn)
        self.use_chat = self.format.use_chat

    @classmethod
    def weights_folder(cls, target: str, *, hub: bool = False) -> str:
        """The folder or hub id ``from_pretrained`` loads (registry.weights_folder)."""
        return target

    def _load_tokenizer(self):
        from transformers import AutoTokenizer

        if not self.target:
            raise ValueError("hf needs a model path or hub name: hf:PATH_OR_NAME")
        return AutoTokenizer.from_pretrained(self.target, trust_remote_code=self.trust_remote_code)

    @property
    def model(self):
        if self._model is None:
            from transformers import AutoModelForCausalLM

            self._model = AutoModelForCausalLM.from_pretrained(
                self.target, dtype=self.dtype, trust_remote_code=self.trust_remote_code).to(self.device).eval()
        return self._model

    @property
    def model_id(self) -> str:
        p = Path(self.target)
        return f"hf:{p.resolve() if p.exists() else self.target}"

    @property
    def cache_identity(self) -> str:
        return (f"{self.model_id}|{weights_fingerprint(self.target)}|{self.format.mode}|rp={self.repetition_penalty}"
                f"|turn={self.stop_on_turn}")

    def render(self, request: GenerationRequest) -> str:
        return self.format.render(request)

    # -- generation --------------------------------------------------------------------------
    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        import torch

        results: list[GenerationResult | None] = [None] * len(requests)
        rendered = [self.render(r) for r in requests]
        for params, chunk in length_sorted_batches(rendered, requests, self.batch_size):
            t0 = time.perf_counter()
            texts = [rendered[i] for i in chunk]
            enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=self.format.add_special_tokens).to(self.device)
            gen_kwargs = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id,
                          "repetition_penalty": self.repetition_penalty}
            stop = self.format.stops(params)
            if params.temperature > 0:
                gen_kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
                if params.seed is not None:
                    torch.manual_seed(params.seed)
            else:
                gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            if stop:
                gen_kwargs["stopping_criteria"] = [_TailStop(self.tokenizer, stop, enc["input_ids"].shape[1])]
            with torch.inference_mode():
                out = self.model.generate(**enc, **gen_kwargs)
            new = out[:, enc["input_ids"].shape[1]:]
            elapsed = time.perf_counter() - t0
            eos = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id} | set(
                _as_list(getattr(self.model.generation_config, "eos_token_id", None)))
            for row, i in enumerate(chunk):
                ids = new[row].tolist()
                n = next((k for k, t in enumerate(ids) if t in eos), len(ids))
                text = self.tokenizer.decode(ids[:n], skip_special_tokens=True)
                text, stopped = truncate_at_stop(text, stop)
                results[i] = GenerationResult(
                    text=text.strip(), finish_reason="stop" if (n < len(ids) or stopped) else "length",
                    prompt_tokens=int(enc["attention_mask"][row].sum()), completion_tokens=n,
                    latency_s=elapsed / len(chunk),
                )
        return results  # type: ignore[return-value]


class _TailStop:
    """Stops each sequence once its newest tokens contain a stop string.

    transformers' ``stop_strings`` costs about half the throughput of a small model on CPU; decoding
    only the last few tokens of each row is enough for short stop strings and costs almost nothing.
    """

    def __init__(self, tokenizer, stops, prompt_len: int, tail: int = 8):
        self.tokenizer, self.stops, self.prompt_len, self.tail = tokenizer, tuple(stops), prompt_len, tail

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        new = input_ids[:, self.prompt_len:]
        tails = self.tokenizer.batch_decode(new[:, -self.tail:], skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stops) for t in tails], device=input_ids.device)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
