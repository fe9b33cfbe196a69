"""Converting a transformers folder into a CTranslate2 model folder, once, in the user cache.

The converted folder is built in a hidden sibling (``.NAME.PID.partial``) and renamed into place
only after the converter finished, the tokenizer was copied and the weights were hashed into a
manifest (``celm-ct2.json``). So a folder at the final path is always complete; a conversion killed
half-way leaves only the hidden sibling, which the next conversion removes once its process is gone.

torch and transformers (which the converter uses) are imported only here, at conversion time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from celm.models.catalog import ModelNotInstalledError, file_sha256, is_stale_partial

#: The extra that installs the engine; said in every error about it.
INSTALL_HINT = "pip install 'celm[ct2]'  (or: pip install 'ctranslate2>=4.5,<5')"
MANIFEST = "celm-ct2.json"
#: where the tokenizer files go inside a converted folder: the converter writes its own
#: config.json at the top, which would confuse transformers' AutoTokenizer
TOKENIZER_DIR = "tokenizer"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


class MissingEngineError(ModelNotInstalledError):
    """CTranslate2 is not installed; the message says how to install it (the CLI shows it in one line)."""


def require_ctranslate2():
    try:
        import ctranslate2
    except ImportError:
        raise MissingEngineError(f"the ct2 backend needs CTranslate2, which is not installed: {INSTALL_HINT}") from None
    return ctranslate2


def stored_quantization(compute_type: str) -> str:
    """The weight type a folder is converted to for ``compute_type``: int8 weights serve every int8
    compute type (int8_float16 on a GPU included), and load in a fraction of the time."""
    if compute_type in ("auto", "default") or compute_type.startswith("int8"):
        return "int8"
    return compute_type


def is_converted(folder: Path) -> bool:
    """A finished conversion: the manifest is there and the weights have the recorded size."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return (folder / "model.bin").stat().st_size == manifest["files"]["model.bin"]["size"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def verify(folder: Path) -> bool:
    """Re-hash the weights against the manifest (``celm models prepare`` does it; loads do not)."""
    if not is_converted(folder):
        return False
    return file_sha256(folder / "model.bin") == read_manifest(folder)["files"]["model.bin"]["sha256"]


def source_fingerprint(source: Path) -> str:
    """Changes when the source folder's weights are rewritten (a retrained model in place)."""
    stats = sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in source.iterdir()
                   if f.suffix in _WEIGHT_SUFFIXES)
    return hashlib.sha256(repr((str(source.resolve()), stats)).encode()).hexdigest()[:12]


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove half-built conversions next to ``folder`` whose process has died."""
    removed = []
    for leftover in folder.parent.glob(f".{folder.name}.*.partial"):
        if not is_stale_partial(leftover):
            continue  # another process is converting right now
        shutil.rmtree(leftover, ignore_errors=True)
        removed.append(leftover)
    return removed


def _copy_tokenizer(source: Path, dest: Path) -> None:
    """Everything of the source folder but its weights and model config: tokenizer files, chat
    template, generation config (its end-of-turn ids)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in source.iterdir():
        if f.is_file() and f.suffix not in _WEIGHT_SUFFIXES and f.name != "config.json" and not f.name.endswith(".index.json"):
            shutil.copy2(f, dest / f.name)


def _write_manifest(tmp: Path, source: Path, quantization: str, version: str) -> None:
    weights = tmp / "model.bin"
    manifest = {"source": str(source.resolve()), "source_fingerprint": source_fingerprint(source),
                "quantization": quantization, "ctranslate2": version,
                "files": {"model.bin": {"size": weights.stat().st_size, "sha256": file_sha256(weights)}}}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def convert(source: str | Path, out: str | Path, *, quantization: str = "int8") -> Path:
    """Convert the transformers folder ``source`` into ``out`` (a no-op when ``out`` is done)."""
    source, out = Path(source), Path(out)
    if is_converted(out):
        return out
    ctranslate2 = require_ctranslate2()
    from ctranslate2.converters import TransformersConverter

    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        TransformersConverter(str(source), low_cpu_mem_usage=True).convert(str(tmp), quantization=quantization, force=True)
        _copy_tokenizer(source, tmp / TOKENIZER_DIR)
        _write_manifest(tmp, source, quantization, ctranslate2.__version__)
        if out.exists():  # an unfinished folder from elsewhere (a done one returned above)
            shutil.rmtree(out)
        try:
            os.replace(tmp, out)
        except OSError:
            if not is_converted(out):  # not another process finishing first: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
