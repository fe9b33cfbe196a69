"""``gguf:PATH`` or ``gguf:NAME`` (a built-in model, see ``celm.models.catalog``).

transformers dequantises GGUF weights when it loads them, which is slow (about 45 s for Gemma 3
270M on 2 cores). The first load therefore saves the dequantised model once as a plain
transformers folder in the cache; later loads read that (a few seconds). The plain copy is also
what training starts from, since a model loaded from GGUF is flagged as quantised and refuses it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from celm.models.catalog import CATALOG, materialize
from celm.models.defaults import DEFAULT_BASE_NAME
from celm.models.hf import HFBackend

#: what ``gguf:`` with no name means
DEFAULT_GGUF = DEFAULT_BASE_NAME
#: Kept for callers that list the built-in names.
BUILTIN = {name: m.packages[0] for name, m in CATALOG.items()}


def cache_root() -> Path:
    from celm.paths import cache_dir

    return cache_dir() / "models"


def _join_progress(name: str):
    """A progress callback for the one-time join of a built-in model's parts (stderr, TTY only)."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    bar = Progress(TextColumn(f"joining {name}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("join", total=total)
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return update


def resolve_gguf(target: str) -> Path:
    """The GGUF file a target names: a built-in name, a file, or a folder holding one .gguf."""
    if target in CATALOG:
        return materialize(CATALOG[target], cache_root(), progress=_join_progress(target))
    path = Path(target)
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if len(found) != 1:
            raise FileNotFoundError(f"{path}: expected exactly one .gguf file, found {len(found)}")
        return found[0]
    if not path.exists():
        raise FileNotFoundError(f"{path}: GGUF file not found (built-in names: {', '.join(CATALOG)})")
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
        self.gguf_target = target or DEFAULT_GGUF
        builtin = CATALOG.get(self.gguf_target)
        if builtin is not None:
            for key, value in builtin.defaults.items():
                options.setdefault(key, value)
        super().__init__(spec, str(dequantized_dir(self.gguf_target)), **options)

    @classmethod
    def weights_folder(cls, target: str, *, hub: bool = False) -> str:
        """The dequantised copy (made on first use); with ``hub``, a built-in model's hub id."""
        name = target or DEFAULT_GGUF
        if hub:
            builtin = CATALOG.get(name)
            return builtin.hub_id if builtin is not None and builtin.hub_id else name
        return str(dequantized_dir(name))

    @property
    def model_id(self) -> str:
        return f"gguf:{self.gguf_target}"
