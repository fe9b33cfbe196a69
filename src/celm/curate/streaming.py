"""A curation pipeline without the pool in memory: records stream through in chunks.

Each stage runs as its kind says (celm.curate.stages.base):

* **row stages** (normalise, filter, classify, norms, leakage) run chunk by chunk and their chunk
  reports merge into the report one pass over the pool gives;
* **keyed stages** (dedup, split): the records wait in a spill file while the stage collects their
  key columns and plans, then stream out of it again with the plan applied;
* **global stages** (inject, paraphrase, approve) hold their input in memory.

So peak memory is the key columns of the largest keyed stage plus a chunk, and the outputs are
byte-identical to chaining ``run_stage`` over the whole pool (tests/curate/test_streaming.py).
Nothing is written in the output folder until the last stage has run: a crash or a bad input row
leaves the folder as it was.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from celm.curate.pipeline import PipelineConfig, finish_run
from celm.curate.report import StageReport
from celm.curate.stages import STAGES, KeyedStage, RowStage, Stage, StageContext, make_stage
from celm.data.records import RECORD_TYPES, Record

RowFn = Callable[[list[Record]], tuple[list[Record], StageReport]]


def segments(stages: Sequence[tuple[str, dict]]) -> list[tuple[list[tuple[str, dict]], tuple[str, dict] | None]]:
    """The pipeline as (run of row stages, the whole-pool stage that ends it or None)."""
    out, run = [], []
    for stage in stages:
        if STAGES.get(stage[0]).kind == "row":
            run.append(stage)
        else:
            out.append((run, stage))
            run = []
    if run or not out:
        out.append((run, None))
    return out


class Clock:
    """Seconds per stage, summed over chunks (for benchmarks; never written to the outputs, which
    must not depend on the clock)."""

    def __init__(self, into: dict | None = None):
        self.seconds = into if into is not None else {}

    def add(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - since
        return now

    def timed(self, name: str, items: Iterable) -> Iterator:
        """``items``, with the time spent producing them counted under ``name``."""
        it = iter(items)
        while True:
            t = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                self.add(name, t)
                return
            self.add(name, t)
            yield item


class RowRun:
    """Row stages applied chunk by chunk, each stage's report merged over the chunks."""

    def __init__(self, fns: Sequence[RowFn], names: Sequence[str] = (), clock: Clock | None = None):
        self.fns = list(fns)
        self.names = list(names) or [f"stage{k}" for k in range(len(self.fns))]
        self.clock = clock or Clock()
        self.reports = [fn([])[1] for fn in self.fns]  # a report over no records: the settings, zero counts

    def apply(self, chunk: list[Record]) -> list[Record]:
        for k, fn in enumerate(self.fns):
            t = time.perf_counter()
            chunk, report = fn(chunk)
            self.reports[k].merge(report)
            self.clock.add(self.names[k], t)
        return chunk

    def stream(self, chunks: Iterable[list[Record]]) -> Iterator[list[Record]]:
        for chunk in chunks:
            chunk = self.apply(chunk)
            if chunk:
                yield chunk


def input_chunks(specs: Sequence[str], base_dir: Path, size: int) -> Iterator[list[Record]]:
    """The inputs in chunks: JSONL files streamed (validated as ``read_records`` does), sources and
    other formats loaded whole (they are small or columnar)."""
    from celm.data.io import file_format, iter_record_chunks
    from celm.data.sources import load_file_or_source

    for spec in specs:
        path = Path(spec) if Path(spec).is_absolute() else base_dir / spec
        if path.is_file() and file_format(path) in ("jsonl", "jsonl.gz"):
            yield from iter_record_chunks(path, size=size)
        else:
            records = load_file_or_source(spec, base_dir=base_dir)
            for start in range(0, len(records), size):
                yield records[start:start + size]


class Spill:
    """Records parked in a temporary file (one ``TYPE<TAB>JSON`` line each) while a keyed stage
    plans; read back in order, skipping rows without parsing them."""

    def __init__(self, folder: Path):
        fd, name = tempfile.mkstemp(prefix=".spill-", suffix=".tmp", dir=folder)
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        self.count = 0

    def add(self, record: Record) -> None:
        self._fh.write(f"{record.record_type}\t{record.model_dump_json()}\n")
        self.count += 1

    def read(self, size: int, keep: Callable[[int], bool] | None = None) -> Iterator[list[tuple[int, Record]]]:
        self._fh.close()
        chunk: list[tuple[int, Record]] = []
        with open(self.path, encoding="utf-8") as fh:
            for index, line in enumerate(fh):
                if keep is not None and not keep(index):
                    continue
                kind, _, payload = line.partition("\t")
                chunk.append((index, RECORD_TYPES[kind].model_validate_json(payload)))
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def remove(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)


class RecordSetWriter:
    """Named record sets written as they stream, with ``write_record_set``'s file names
    (``NAME.jsonl``, or ``NAME.TYPE.jsonl`` each when a set mixes record types), its line format and
    its duplicate-id check. Files appear in the folder only on ``close``; ``abort`` leaves nothing."""

    def __init__(self, folder: Path, names: Sequence[str]):
        self.folder = folder
        self.names = list(names)
        self._files: dict[tuple[str, str], tuple[Path, Any]] = {}
        self._seen: dict[tuple[str, str], dict[str, int]] = {}
        self.issues: list = []
        self.count = 0

    def add(self, name: str, record: Record) -> None:
        import json

        from celm.data.errors import Issue
        from celm.data.io import record_to_row

        key = (name, record.record_type)
        if key not in self._files:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
            self._files[key] = (Path(tmp), os.fdopen(fd, "w", encoding="utf-8"))
            self._seen[key] = {}
        seen = self._seen[key]
        number = len(seen) + 1
        if record.id in seen:
            self.issues.append(Issue(f"{name}.jsonl", number, "id", f"duplicate id {record.id!r} (first at row {seen[record.id]})"))
        seen.setdefault(record.id, number)
        self._files[key][1].write(json.dumps(record_to_row(record), ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> list[str]:
        from celm.data.errors import DataValidationError

        for _, fh in self._files.values():
            fh.close()
        if self.issues:
            self.abort()
            raise DataValidationError(self.issues)
        files = []
        umask = os.umask(0)
        os.umask(umask)
        for name in self.names:
            kinds = sorted(t for n, t in self._files if n == name)
            if not kinds:
                (self.folder / f"{name}.jsonl").write_text("", encoding="utf-8")
                files.append(f"{name}.jsonl")
            for kind in kinds:
                target = f"{name}.jsonl" if len(kinds) == 1 else f"{name}.{kind}.jsonl"
                tmp = self._files[(name, kind)][0]
                os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, self.folder / target)
                files.append(target)
        return files

    def abort(self) -> None:
        """Remove what was written; after ``close`` there is nothing left to remove."""
        for tmp, fh in self._files.values():
            fh.close()
            tmp.unlink(missing_ok=True)


def finish_written(config: PipelineConfig, reports: Sequence[StageReport], writer: RecordSetWriter) -> dict[str, Any]:
    """Close the writer (its files appear), then write the run's reports and summary (``finish_run``)."""
    final = writer.count
    return finish_run(config, reports, writer.close(), final)


def run_streaming(config: PipelineConfig, *, log=print, progress: bool = False, chunk_size: int = 50_000,
                  timings: dict | None = None) -> dict[str, Any]:
    """``run_pipeline`` in one process, streaming (see the module's docstring). ``timings``, when
    given, receives seconds per stage (``read`` and ``write`` for the input and output files)."""
    clock = Clock(timings)
    # The key columns hold millions of small objects (ids, texts) that live for a whole stage; the
    # cyclic garbage collector would walk them again and again (a third of the run at 2M records).
    # Records hold no reference cycles, so reference counting frees them; collect once at the end.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_streaming(config, log=log, progress=progress, chunk_size=chunk_size, clock=clock)
    finally:
        if gc_was_enabled:
            gc.enable()
        gc.collect()


def _run_streaming(config: PipelineConfig, *, log, progress: bool, chunk_size: int, clock: Clock) -> dict[str, Any]:
    ctx = StageContext(seed=config.seed, base_dir=config.base_dir, progress=progress)
    out = config.output
    out.mkdir(parents=True, exist_ok=True)
    reports: list[StageReport] = []
    chunks: Iterable[list[Record]] = clock.timed("read", input_chunks(config.input, config.base_dir, chunk_size))
    spills: list[Spill] = []
    writer: RecordSetWriter | None = None
    try:
        for run, pool in segments(config.stages):
            row_stages: list[RowStage] = [make_stage(name, params, ctx) for name, params in run]  # type: ignore[misc]
            rows = RowRun([s.apply for s in row_stages], [name for name, _ in run], clock)
            mapped = rows.stream(chunks)
            if pool is None:
                chunks = mapped
                break
            name, params = pool
            stage: Stage = make_stage(name, params, ctx)
            if isinstance(stage, KeyedStage):
                spill = Spill(out)
                spills.append(spill)
                for chunk in mapped:
                    t = time.perf_counter()
                    for r in chunk:
                        spill.add(r)
                        stage.collect(r)
                    clock.add(name, t)
                _log_reports(rows.reports, reports, log)
                t = time.perf_counter()
                report = stage.plan()
                clock.add(name, t)
                _log_reports([report], reports, log)
                if stage.routes:  # the last stage: route the records to their files
                    writer = RecordSetWriter(out, stage.set_names())
                    for chunk in clock.timed("write", spill.read(chunk_size)):
                        for index, r in chunk:
                            writer.add(stage.set_of(index), r)
                    break
                chunks = clock.timed(name, apply_keyed(stage, spill, chunk_size))
            else:  # a stage that holds its input
                records = [r for chunk in mapped for r in chunk]
                _log_reports(rows.reports, reports, log)
                t = time.perf_counter()
                result, report = stage.run(records)
                clock.add(name, t)
                _log_reports([report], reports, log)
                chunks = [result[start:start + chunk_size] for start in range(0, len(result), chunk_size)]
        if writer is None:  # no split: one set
            writer = RecordSetWriter(out, ["curated"])
            for chunk in chunks:
                t = time.perf_counter()
                for r in chunk:
                    writer.add("curated", r)
                clock.add("write", t)
            if pool is None:
                _log_reports(rows.reports, reports, log)
        return finish_written(config, reports, writer)
    finally:
        if writer is not None:
            writer.abort()
        for spill in spills:
            spill.remove()


def _log_reports(new: Sequence[StageReport], reports: list[StageReport], log) -> None:
    for report in new:
        reports.append(report)
        log(report.summary())


def apply_keyed(stage: KeyedStage, spill: Spill, size: int) -> Iterator[list[Record]]:
    """The spilled records with a keyed stage's plan applied (dropped rows are skipped unparsed)."""
    for chunk in spill.read(size, keep=stage.keeps):
        yield [stage.apply(i, r) for i, r in chunk]
