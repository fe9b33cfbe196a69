"""``ct2:NAME|PATH``: CTranslate2, the fast CPU engine for local chat models (extra ``ct2``).

``NAME`` is a built-in model (``celm models list``): its verified GGUF file is dequantised once into a
transformers folder (as for ``gguf:``), which is converted once into a CTranslate2 folder in the user
cache (``ct2_convert``). ``PATH`` is a transformers folder (converted the same way) or a folder that
is already a CTranslate2 model.

The prompt is the transformers path's own: the same tokenizer and ``apply_chat_template``
(``chat_format.PromptFormat``). Int8 weights change some answers; docs/models.md measures how many.

Options (``ct2:NAME?key=value&...``): ``compute_type`` (int8 | int8_float32 | float32 | ... ;
on a GPU ``int8_float16``), ``device`` (cpu | cuda | auto), ``batch_size``, ``inter_threads`` (batches
run at once), ``intra_threads`` (threads per batch; 0 lets CTranslate2 choose), ``repetition_penalty``,
``template``, ``plain_template``, ``stop_on_turn`` (as for ``hf:``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from celm.models.base import (
    GenerationRequest, GenerationResult, ModelBackend, length_sorted_batches, truncate_at_stop,
)
from celm.models.catalog import CATALOG
from celm.models.chat_format import PLAIN_TEMPLATE, PromptFormat, truthy
from celm.models.ct2_convert import (
    MANIFEST,
    TOKENIZER_DIR,
    convert,
    read_manifest,
    require_ctranslate2,
    source_fingerprint,
    stored_quantization,
)


def ct2_cache_root() -> Path:
    from celm.models.gguf import cache_root

    return cache_root() / "ct2"


def source_dir(target: str) -> Path:
    """The transformers folder a ct2 target starts from (built-in names: the dequantised copy)."""
    from celm.models.gguf import DEFAULT_GGUF, dequantized_dir

    if not target or target in CATALOG:
        return dequantized_dir(target or DEFAULT_GGUF)
    path = Path(target)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: not a folder and not a built-in model (built-in: {', '.join(CATALOG)})")
    return path


def is_ct2_folder(path: Path) -> bool:
    return (path / "model.bin").is_file()


def ct2_dir(target: str, compute_type: str = "int8") -> Path:
    """The CTranslate2 folder for a target, converting it on first use."""
    path = Path(target) if target else None
    if path is not None and target not in CATALOG and is_ct2_folder(path):
        return path
    source = source_dir(target)
    quantization = stored_quantization(compute_type)
    if target in CATALOG or not target:
        name = f"{source.name}-{quantization}"  # the dequantised folder's name carries the GGUF's fingerprint
    else:
        name = f"{source.name}-{source_fingerprint(source)}-{quantization}"
    return convert(source, ct2_cache_root() / name, quantization=quantization)


def _tokenizer_dir(folder: Path) -> Path:
    return folder / TOKENIZER_DIR if (folder / TOKENIZER_DIR).is_dir() else folder


def _end_ids(tokenizer, folder: Path) -> list[int]:
    """The ids that end an answer, as the transformers path takes them: eos, pad and the generation
    config's eos list."""
    ids = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    config = _tokenizer_dir(folder) / "generation_config.json"
    if config.is_file():
        eos = json.loads(config.read_text(encoding="utf-8")).get("eos_token_id")
        ids |= set(eos if isinstance(eos, list) else [eos])
    return sorted(i for i in ids if i is not None)


class CT2Backend(ModelBackend):
    #: a model trained from ct2 weights (LoRA on the transformers folder, merged) generates on ct2 too
    trained_engine = "ct2"

    def __init__(self, spec: str, target: str, *, compute_type: str = "int8", device: str = "cpu",
                 batch_size: str | int | None = None, inter_threads: str | int = 1, intra_threads: str | int = 0,
                 template: str = "auto", plain_template: str = PLAIN_TEMPLATE, repetition_penalty: str | float | None = None,
                 stop_on_turn: str = "true", **_: str):
        super().__init__(spec)
        self.ctranslate2 = require_ctranslate2()  # fail first, in one line, when the extra is missing
        self.target = target
        # A built-in model's measured defaults, unless the spec or the caller set the option.
        builtin = CATALOG.get(target) if target else None
        defaults = builtin.defaults if builtin is not None else {}
        batch_size = batch_size if batch_size is not None else defaults.get("batch_size", 8)
        repetition_penalty = repetition_penalty if repetition_penalty is not None else defaults.get("repetition_penalty", 1.0)
        self.compute_type = compute_type
        self.device = device
        if device == "auto":
            self.device = "cuda" if self.ctranslate2.get_cuda_device_count() > 0 else "cpu"
        self.batch_size = int(batch_size)
        self.inter_threads, self.intra_threads = int(inter_threads), int(intra_threads)
        self.repetition_penalty = float(repetition_penalty)
        self.stop_on_turn = truthy(stop_on_turn)
        self.folder = ct2_dir(target, compute_type)
        from transformers import AutoTokenizer  # the tokenizer only: transformers does not load torch for it

        self.tokenizer = AutoTokenizer.from_pretrained(_tokenizer_dir(self.folder))
        self.format = PromptFormat(self.tokenizer, template=template, plain_template=plain_template,
                                   stop_on_turn=self.stop_on_turn)
        self.use_chat = self.format.use_chat
        self.end_ids = _end_ids(self.tokenizer, self.folder)
        # Weights load on first use, so a run served from the cache never loads them.
        self._generator = None
        self.load_s: float | None = None

    @classmethod
    def weights_folder(cls, target: str, *, hub: bool = False) -> str:
        """The transformers folder the CTranslate2 copy is made from (training starts there)."""
        from celm.models.gguf import GGUFBackend

        if not target or target in CATALOG:
            return GGUFBackend.weights_folder(target, hub=hub)
        if is_ct2_folder(Path(target)):
            raise ValueError(f"{target}: a converted CTranslate2 folder; train from the transformers folder it came from")
        return str(source_dir(target))

    @property
    def generator(self):
        if self._generator is None:
            t0 = time.perf_counter()
            self._generator = self.ctranslate2.Generator(
                str(self.folder), device=self.device, compute_type=self.compute_type,
                inter_threads=self.inter_threads, intra_threads=self.intra_threads)
            self.load_s = time.perf_counter() - t0
        return self._generator

    @property
    def model_id(self) -> str:
        if not self.target or self.target in CATALOG:
            return f"ct2:{self.target or self.folder.name}"
        return f"ct2:{Path(self.target).resolve()}"

    @property
    def cache_identity(self) -> str:
        # The engine, the stored weights (their hash) and the compute type all change answers, so
        # int8 answers never pass for fp32 ones, nor for the transformers path's.
        digest = _weights_digest(self.folder)
        return (f"{self.model_id}|engine=ctranslate2|weights={digest}|compute={self.compute_type}|{self.format.mode}"
                f"|rp={self.repetition_penalty}|turn={self.stop_on_turn}")

    def render(self, request: GenerationRequest) -> str:
        return self.format.render(request)

    def describe(self) -> dict:
        return {**super().describe(), "folder": str(self.folder), "compute_type": self.compute_type, "device": self.device}

    def generate_batch(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        results: list[GenerationResult | None] = [None] * len(requests)
        rendered = [self.render(r) for r in requests]
        for params, chunk in length_sorted_batches(rendered, requests, self.batch_size):
            t0 = time.perf_counter()
            prompt_ids = [self.tokenizer(rendered[i], add_special_tokens=self.format.add_special_tokens)["input_ids"]
                          for i in chunk]
            outs, stopped_early = self._generate(prompt_ids, params)
            elapsed = time.perf_counter() - t0
            stops = self.format.stops(params)
            for row, i in enumerate(chunk):
                ids = outs[row]
                text, stopped = truncate_at_stop(self.tokenizer.decode(ids, skip_special_tokens=True), stops)
                ended = len(ids) < params.max_new_tokens or stopped or row in stopped_early
                results[i] = GenerationResult(
                    text=text.strip(), finish_reason="stop" if ended else "length",
                    prompt_tokens=len(prompt_ids[row]), completion_tokens=len(ids), latency_s=elapsed / len(chunk))
        return results  # type: ignore[return-value]

    def _generate(self, prompt_ids: list[list[int]], params) -> tuple[list[list[int]], set[int]]:
        """One batch through the engine: the new token ids of each prompt, and the rows a stop
        string ended."""
        kwargs = {"max_length": params.max_new_tokens, "include_prompt_in_result": False,
                  "repetition_penalty": self.repetition_penalty, "end_token": self.end_ids,
                  "max_batch_size": self.batch_size}
        if params.temperature > 0:
            kwargs.update(sampling_topk=0, sampling_temperature=params.temperature, sampling_topp=params.top_p)
            if params.seed is not None:
                self.ctranslate2.set_random_seed(params.seed)
        else:
            kwargs.update(sampling_topk=1)
        stops = self.format.stops(params)
        stopped: set[int] = set()
        if stops:
            kwargs["callback"] = _TailStop(self.tokenizer, stops, len(prompt_ids), stopped)
        tokens = [self.tokenizer.convert_ids_to_tokens(ids) for ids in prompt_ids]
        out = self.generator.generate_batch(tokens, **kwargs)
        return [r.sequences_ids[0] for r in out], stopped


class _TailStop:
    """Ends a row once its newest tokens contain a stop string (CTranslate2 calls it per token;
    returning True ends that row only). Decoding the last few tokens is enough for short stops."""

    def __init__(self, tokenizer, stops, rows: int, stopped: set[int], tail: int = 8):
        self.tokenizer, self.stops, self.tail, self.stopped = tokenizer, tuple(stops), tail, stopped
        self.ids: list[list[int]] = [[] for _ in range(rows)]

    def __call__(self, step) -> bool:
        row = self.ids[step.batch_id]
        row.append(step.token_id)
        if any(s in self.tokenizer.decode(row[-self.tail:], skip_special_tokens=True) for s in self.stops):
            self.stopped.add(step.batch_id)
            return True
        return False


def _weights_digest(folder: Path) -> str:
    if (folder / MANIFEST).is_file():
        return read_manifest(folder)["files"]["model.bin"]["sha256"][:16]
    st = (folder / "model.bin").stat()  # a folder converted elsewhere: its size and time
    return f"{st.st_size}-{st.st_mtime_ns}"
