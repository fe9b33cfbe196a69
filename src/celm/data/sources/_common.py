"""Helpers the source loaders share: tolerant readers for publishers' files, category mapping."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

from celm.data.errors import DataValidationError, Issue


def shared_data_dir() -> Path:
    """Where the public datasets live: $CELM_SHARED_DATA, else ../shared/data from the working folder."""
    env = os.environ.get("CELM_SHARED_DATA")
    if env:
        return Path(env)
    for base in (Path.cwd(), *Path.cwd().parents):
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
        sibling = base.parent / "shared" / "data"
        if sibling.is_dir():
            return sibling
    return Path("../shared/data")


HUB_PREFIX = "hf://"


def from_hub(spec: str, filename: str | None) -> Path:
    """``hf://OWNER/NAME[/FILE]``: the publisher's own file from a Hugging Face dataset repository
    (needs a network), downloaded once into the Hugging Face cache and read by the same loader."""
    from huggingface_hub import hf_hub_download

    parts = spec[len(HUB_PREFIX):].strip("/").split("/")
    repo, name = "/".join(parts[:2]), "/".join(parts[2:]) or filename
    if not name:
        raise ValueError(f"{spec}: name the file in the repository, e.g. {spec}/train.csv")
    return Path(hf_hub_download(repo_id=repo, filename=name, repo_type="dataset"))


def resolve(path: str | Path | None, folder: str, filename: str | None = None) -> Path:
    """A loader's input: the given file, a file inside the given folder, ``hf://OWNER/NAME`` on the
    Hugging Face hub, or the shared default."""
    if path is not None and str(path).startswith(HUB_PREFIX):
        return from_hub(str(path), filename)
    base = Path(path) if path is not None else shared_data_dir() / folder
    if base.is_dir() and filename is not None:
        base = base / filename
    if not base.exists():
        raise FileNotFoundError(f"{base}: not found (pass the dataset's path, or set CELM_SHARED_DATA)")
    return base


def clean_label(value: str | None) -> str | None:
    """Publisher labels carry stray spaces and BOMs; strip them."""
    if value is None:
        return None
    value = value.replace("\ufeff", "").strip()
    return value or None


def decode(path: Path, encoding: str = "utf-8-sig") -> str:
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataValidationError([Issue(str(path), line, None, f"cannot decode as {encoding}")]) from None


def csv_rows(path: Path, *, encoding: str = "utf-8-sig", header: bool = True) -> Iterator[tuple[int, dict | list]]:
    """(line number, row) for each CSV row; multi-line cells report the line the row starts on."""
    text = decode(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: list[str] | None = None
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        if header and columns is None:
            columns = [clean_label(c) or f"column{i}" for i, c in enumerate(row)]
            continue
        yield line, (dict(zip(columns, row)) if columns else row)


def jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(decode(path).splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataValidationError([Issue(str(path), number, None, f"invalid JSON: {exc.msg}")]) from None


def json_file(path: Path):
    try:
        return json.loads(decode(path))
    except json.JSONDecodeError as exc:
        raise DataValidationError([Issue(str(path), exc.lineno, None, f"invalid JSON: {exc.msg}")]) from None


class RowErrors:
    """Collects bad rows so a loader reports all of them at once."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, file: Path, line: int | None, field: str | None, reason: str) -> None:
        self.issues.append(Issue(str(file), line, field, reason))

    def raise_if_any(self) -> None:
        if self.issues:
            raise DataValidationError(self.issues)


def load_hub(hub_id: str, **kwargs):
    """Rows of a dataset on the Hugging Face hub (needs a network; never used in tests)."""
    import datasets

    return datasets.load_dataset(hub_id, **kwargs)


def prompt_items(file: Path, rows, *, source: str, id_of, category_of, category_map: dict, kind: str = "attack",
                 details_of=None) -> list:
    """EvalItems from rows that each hold a ``prompt`` and a category; empty prompts are reported."""
    from celm.data.records import EvalItem, Provenance
    from celm.taxonomy import get_taxonomy

    errors = RowErrors()
    items = []
    for line, row in rows:
        prompt = (row.get("prompt") or "").strip()
        if not prompt:
            errors.add(file, line, "prompt", "empty text")
            continue
        category = category_of(row)
        scenario = category_map.get(clean_label(category) or "")
        items.append(EvalItem(
            id=f"{source}-{id_of(line, row)}", prompt=prompt, kind=kind, scenario=scenario,
            norms=list(get_taxonomy().norms_for(scenario)),
            provenance=Provenance(source=source, source_id=str(id_of(line, row)), original_category=category,
                                  details=details_of(row) if details_of else {}),
        ))
    errors.raise_if_any()
    return items
