"""Read and write celm records as JSONL (optionally gzipped), JSON, Parquet, CSV and HF datasets.

Readers validate every row and raise :class:`DataValidationError` listing each bad row as
``file:line: field: reason``; writers are atomic (temporary file, then rename), so a failed write
leaves nothing behind and a reader never sees half a file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from celm.data.errors import DataValidationError, Issue
from celm.data.excel import escape_cell, unescape_cell
from celm.data.records import RECORD_TYPES, Record, detect_record_type

R = TypeVar("R", bound=Record)

# Nested fields stored as JSON text in flat formats (CSV cells, Parquet and Arrow columns).
_JSON_FIELDS = ("provenance", "details")


def file_format(path: str | Path) -> str:
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        return "hf"
    for suffix, fmt in ((".jsonl.gz", "jsonl.gz"), (".jsonl", "jsonl"), (".json", "json"),
                        (".parquet", "parquet"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"{path}: unknown format (use .jsonl, .jsonl.gz, .json, .parquet, .csv or a dataset folder)")


# -- reading ------------------------------------------------------------------------------------

def _decode_lines(lines: Iterable[bytes], file: str, issues: list[Issue]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, start=1):
        raw = raw.removesuffix(b"\n")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(Issue(file, number, None, f"bad UTF-8 at byte {exc.start}"))


def _jsonl_rows(lines: Iterable[bytes], file: str, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    for number, text in _decode_lines(lines, file, issues):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except json.JSONDecodeError as exc:
            issues.append(Issue(file, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"))


def _decode_all(data: bytes, file: str, issues: list[Issue]) -> str | None:
    """The whole file as text, or None (with the line of the first bad byte recorded)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        issues.append(Issue(file, line, None, f"bad UTF-8 at byte {exc.start}"))
        return None


def _json_rows(data: bytes, file: str, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    text = _decode_all(data, file, issues)
    if text is None:
        return
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        issues.append(Issue(file, exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})"))
        return
    if not isinstance(rows, list):
        issues.append(Issue(file, 1, None, "a .json file must hold a list of objects"))
        return
    # Line numbers in a JSON array are not one per row; we report the row's position instead.
    yield from enumerate(rows, start=1)


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and value == "" and key not in ("input", "instruction")):
            continue
        if isinstance(value, str) and value[:1] in "[{" and (key in _JSON_FIELDS or key in ("norms", "options", "approvals")):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as text: the record validator reports the wrong type
        out[key] = value
    return out


def _csv_rows(data: bytes, file: str, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    text = _decode_all(data, file, issues)
    if text is None:
        return
    for_excel = data.startswith(codecs.BOM_UTF8)  # written with --excel: formula cells behind a '
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if None in row:
                issues.append(Issue(file, reader.line_num, None, "more cells than header columns"))
                continue
            if for_excel:
                row = {k: unescape_cell(v) for k, v in row.items()}
            yield reader.line_num, _unflatten(row)
    except csv.Error as exc:
        issues.append(Issue(file, reader.line_num, None, f"invalid CSV: {exc}"))


def _arrow_rows(table, file: str) -> Iterator[tuple[int, Any]]:
    for number, row in enumerate(table.to_pylist(), start=1):
        yield number, _unflatten(row)


def _raw_rows(path: Path, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    fmt = file_format(path)
    file = str(path)
    if fmt == "hf":
        import datasets

        try:
            ds = datasets.load_from_disk(str(path))
        except Exception as exc:  # datasets raises several types for a folder that is not a dataset
            issues.append(Issue(file, None, None, f"not a saved Hugging Face dataset: {exc}"))
            return
        if isinstance(ds, datasets.DatasetDict):
            for split, part in ds.items():
                for number, row in _arrow_rows(part.data.table, file):
                    yield number, row
        else:
            yield from _arrow_rows(ds.data.table, file)
        return
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            issues.append(Issue(file, None, None, f"invalid Parquet: {exc}"))
            return
        yield from _arrow_rows(table, file)
        return
    if fmt in ("jsonl", "jsonl.gz"):  # streamed line by line: a file of any size in little memory
        with (gzip.open if fmt == "jsonl.gz" else open)(path, "rb") as fh:
            try:
                yield from _jsonl_rows(fh, file, issues)
            except (OSError, EOFError) as exc:
                issues.append(Issue(file, None, None, f"invalid gzip: {exc}"))
        return
    data = path.read_bytes()
    reader = {"json": _json_rows, "csv": _csv_rows}[fmt]
    yield from reader(data, file, issues)


def _resolve_type(record_type: type[R] | str | None) -> type[Record] | None:
    if isinstance(record_type, str):
        try:
            return RECORD_TYPES[record_type]
        except KeyError:
            raise ValueError(f"unknown record type {record_type!r}; known: {', '.join(RECORD_TYPES)}") from None
    return record_type


def read_records(path: str | Path, record_type: type[R] | str | None = None) -> list[R]:
    """Read and validate every row of a file; raise DataValidationError listing all bad rows."""
    return [r for chunk in iter_record_chunks(path, record_type) for r in chunk]


def iter_record_chunks(path: str | Path, record_type: type[R] | str | None = None, size: int = 50_000) -> Iterator[list[R]]:
    """``read_records`` in chunks of ``size`` records, reading JSONL files as a stream. Every row is
    validated as it comes; after the last chunk, DataValidationError lists all bad rows (so a
    consumer writes its outputs only once the iteration has ended)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    cls = _resolve_type(record_type)
    issues: list[Issue] = []
    records: list[Record] = []
    first_line: dict[str, int] = {}
    file = str(path)
    for number, row in _rows_or_lines(path, issues):
        record = None
        if isinstance(row, str):  # a JSONL line: once the type is known, pydantic parses it directly
            if cls is not None:
                try:
                    record = cls.model_validate_json(row)
                except ValueError:
                    record = None
            if record is None:  # the first line, or a bad one: the slow path words the error
                try:
                    row = json.loads(row)
                except json.JSONDecodeError as exc:
                    issues.append(Issue(file, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"))
                    continue
        if record is None:
            if not isinstance(row, dict):
                issues.append(Issue(file, number, None, f"row is a {type(row).__name__}, not an object"))
                continue
            row_cls = cls or detect_record_type(row)
            if row_cls is None:
                issues.append(Issue(file, number, None, f"cannot tell the record type from fields {sorted(row)}"))
                continue
            cls = cls or row_cls  # the first row fixes the type for the rest of the file
            try:
                record = row_cls.model_validate(row)
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or None
                    issues.append(Issue(file, number, field, err["msg"].removeprefix("Value error, ")))
                continue
        if record.id in first_line:
            issues.append(Issue(file, number, "id", f"duplicate id {record.id!r} (first at line {first_line[record.id]})"))
            continue
        first_line[record.id] = number
        records.append(record)
        if len(records) >= size:
            yield records  # type: ignore[misc]
            records = []
    if issues:
        raise DataValidationError(issues)
    if records:
        yield records  # type: ignore[misc]


def _rows_or_lines(path: Path, issues: list[Issue]) -> Iterator[tuple[int, Any]]:
    """JSONL files as their non-blank lines (text), other formats as parsed rows."""
    fmt = file_format(path)
    if fmt not in ("jsonl", "jsonl.gz"):
        yield from _raw_rows(path, issues)
        return
    with (gzip.open if fmt == "jsonl.gz" else open)(path, "rb") as fh:
        try:
            for number, text in _decode_lines(fh, str(path), issues):
                if text.strip():
                    yield number, text
        except (OSError, EOFError) as exc:
            issues.append(Issue(str(path), None, None, f"invalid gzip: {exc}"))


def read_many(paths: Sequence[str | Path], record_type: type[R] | str | None = None) -> list[R]:
    """Read several files, collecting the issues of all of them before raising."""
    out: list[R] = []
    issues: list[Issue] = []
    for path in paths:
        try:
            out.extend(read_records(path, record_type))
        except DataValidationError as exc:
            issues.extend(exc.issues)
    if issues:
        raise DataValidationError(issues)
    return out


# -- writing ------------------------------------------------------------------------------------

@contextmanager
def atomic_path(path: str | Path, *, is_dir: bool = False):
    """Yield a temporary sibling path; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        if is_dir and path.exists():
            import shutil

            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def record_to_row(record: Record) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _flat_row(record: Record) -> dict[str, Any]:
    row = record_to_row(record)
    for key in _JSON_FIELDS:
        if key in row and not isinstance(row[key], str):
            row[key] = json.dumps(row[key], ensure_ascii=False, sort_keys=True)
    return row


def _check_duplicates(records: Sequence[Record], file: str) -> None:
    seen: dict[str, int] = {}
    issues = []
    for number, record in enumerate(records, start=1):
        if record.id in seen:
            issues.append(Issue(file, number, "id", f"duplicate id {record.id!r} (first at row {seen[record.id]})"))
        seen.setdefault(record.id, number)
    if issues:
        raise DataValidationError(issues)


def jsonl_lines(records: Iterable[Record]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record_to_row(record), ensure_ascii=False) + "\n"


def write_records(path: str | Path, records: Sequence[Record], *, excel: bool = False) -> Path:
    """Write records atomically in the format the path's suffix names.

    ``excel=True`` writes CSV with a BOM so Excel opens Chinese text correctly, and cells that Excel
    would run as formulas escaped (:mod:`celm.data.excel`; read back as they were).
    """
    path = Path(path)
    fmt = "hf" if path.suffix == "" and not path.name.endswith(".jsonl") else file_format(path)
    _check_duplicates(records, str(path))
    if fmt == "hf":
        import datasets

        rows = [_flat_row(r) for r in records]
        with atomic_path(path, is_dir=True) as tmp:
            datasets.Dataset.from_list(rows).save_to_disk(str(tmp))
        return path
    with atomic_path(path) as tmp:
        if fmt in ("jsonl", "jsonl.gz"):
            opener = gzip.open if fmt == "jsonl.gz" else open
            with opener(tmp, "wt", encoding="utf-8") as fh:
                fh.writelines(jsonl_lines(records))
        elif fmt == "json":
            tmp.write_text(json.dumps([record_to_row(r) for r in records], ensure_ascii=False, indent=1), encoding="utf-8")
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist([_flat_row(r) for r in records]), tmp)
        elif fmt == "csv":
            rows = [_flat_row(r) for r in records]
            fields = list(rows[0]) if rows else list(Record.model_fields)
            with open(tmp, "w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                cell = escape_cell if excel else (lambda v: v)
                for row in rows:
                    writer.writerow({k: cell(json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
                                     for k, v in row.items()})
    return path
