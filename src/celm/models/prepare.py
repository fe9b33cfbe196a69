"""Preparing a built-in model for an engine ahead of a run, and saying which engines are ready.

Each engine needs its own copy in the user cache: ``gguf`` the joined, verified GGUF file; ``hf``
(what ``gguf:`` runs and training starts from) its dequantised transformers folder; ``ct2`` that
folder converted for CTranslate2. Each is made on first use anyway; preparing keeps a run's clock
clean. Looking never joins, dequantises or converts anything.
"""

from __future__ import annotations

from pathlib import Path

from celm.models.catalog import CATALOG, BuiltinModel

ENGINES = ("gguf", "hf", "ct2")


def _gguf_path(model: BuiltinModel) -> Path:
    from celm.models.gguf import cache_root

    return cache_root() / model.name / model.filename


def _dequantized_path(model: BuiltinModel) -> Path | None:
    from celm.models.gguf import _fingerprint, cache_root

    gguf = _gguf_path(model)
    if not gguf.is_file():
        return None
    return cache_root() / "dequantized" / f"{gguf.stem}-{_fingerprint(gguf)}"


def _ct2_path(model: BuiltinModel, compute_type: str = "int8") -> Path | None:
    from celm.models.ct2 import ct2_cache_root
    from celm.models.ct2_convert import stored_quantization

    dequantized = _dequantized_path(model)
    if dequantized is None:
        return None
    return ct2_cache_root() / f"{dequantized.name}-{stored_quantization(compute_type)}"


def engine_status(name: str) -> dict[str, str | None]:
    """Per engine, the cached folder or file when it is ready, else None."""
    from celm.models.ct2_convert import is_converted

    model = CATALOG[name]
    gguf, dequantized, ct2 = _gguf_path(model), _dequantized_path(model), _ct2_path(model)
    return {
        "gguf": str(gguf) if gguf.is_file() else None,
        "hf": str(dequantized) if dequantized is not None and (dequantized / "config.json").is_file() else None,
        "ct2": str(ct2) if ct2 is not None and is_converted(ct2) else None,
    }


def prepare(name: str, engines: tuple[str, ...] = ("gguf", "hf")) -> dict[str, str]:
    """Make the cached copies ``engines`` need; returns each engine's path."""
    from celm.models.gguf import dequantized_dir, resolve_gguf

    if name not in CATALOG:
        raise ValueError(f"{name}: not a built-in model (built-in: {', '.join(CATALOG)})")
    unknown = set(engines) - set(ENGINES)
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(sorted(unknown))}; choose from {', '.join(ENGINES)}")
    done = {"gguf": str(resolve_gguf(name))}
    if {"hf", "ct2"} & set(engines):
        done["hf"] = str(dequantized_dir(name))
    if "ct2" in engines:
        from celm.models.ct2 import ct2_dir

        done["ct2"] = str(ct2_dir(name))
    return done
