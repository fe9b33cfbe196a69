"""The one reader of judge weights files: an ``.npz`` of NumPy arrays and a JSON ``meta`` string,
read with ``allow_pickle=False`` (loading weights never runs code).

``meta["kind"]`` says which model the arrays are for, and picks the class that builds it:

- ``fourway``: the four-verdict pair judge (:mod:`celm.judge.models.fourway`, the ``builtin`` default);
- ``pair-v2``: the three-verdict linear judge (:mod:`celm.judge.models.pair_v2`);
- ``probe``: a probe over a chat model's hidden states (:mod:`celm.judge.models.probe`).

Every writer stores its kind. Files written without one are read by their format ``version``
(:data:`KIND_OF_VERSION`), here and nowhere else. A new kind is a class with ``KIND``,
``from_arrays(meta, arrays)`` and ``save(path)``, and one line in :data:`KINDS`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from celm.registry import Registry

KINDS: Registry = Registry("judge weights kind")
KINDS.register("fourway", "celm.judge.models.fourway:FourWayJudgeModel", "four verdicts from the pair (NumPy)")
KINDS.register("pair-v2", "celm.judge.models.pair_v2:PairV2JudgeModel", "three verdicts: refusal cues + linear risk model")
KINDS.register("probe", "celm.judge.models.probe:ProbeJudgeModel", "four verdicts from a chat model's hidden states")

#: the kind of a file that has no ``kind`` field, by its format version
KIND_OF_VERSION = {2: "pair-v2", 3: "fourway"}


def shipped_path(filename: str) -> Path:
    """A weights file shipped with celm (``src/celm/judge/weights/``)."""
    return Path(str(resources.files("celm.judge").joinpath("weights", filename)))


def read_arrays(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a weights file, whatever its kind."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not celm judge weights ({exc})") from None
    return meta, arrays


def kind_of(meta: dict[str, Any]) -> str:
    kind = meta.get("kind") or KIND_OF_VERSION.get(meta.get("version"))
    if kind not in KINDS:
        raise ValueError(f"weights of unknown kind {kind!r} (version {meta.get('version')}); this celm reads "
                         f"{', '.join(KINDS.names())}")
    return kind


def read_weights(path: str | Path):
    """The model a weights file holds, built by the class of its kind (``model.KIND``).

    Read once per file version: the server builds a judge per red-team attempt, while weights
    rewritten in place are read again (the cache is keyed by the file's identity, not its name)."""
    path = Path(path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"{path}: judge weights not found (train them with `celm judge train`)")
    stat = path.stat()
    return _read_once(path, stat.st_ino, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_once(path: Path, inode: int, mtime_ns: int, size: int):
    meta, arrays = read_arrays(path)
    try:
        kind = kind_of(meta)
        return KINDS.get(kind).from_arrays(meta, arrays)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path}: {exc.args[0] if exc.args else exc}") from None


def write_weights(path: str | Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (which names its ``kind``) and float32 ``arrays``, atomically: a crash leaves
    the old file or the new one, never half of one."""
    from celm.data.io import atomic_path

    if meta.get("kind") not in KINDS:
        raise ValueError(f"weights meta must name a kind ({', '.join(KINDS.names())}), not {meta.get('kind')!r}")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(meta, ensure_ascii=False)),
                                **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
