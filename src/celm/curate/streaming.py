"""A curation pipeline without the pool in memory: records stream through in chunks.

Stages are of three kinds:

* **row stages** (normalise, filter, classify, norms, leakage) look at one record at a time; they
  run chunk by chunk and their chunk reports merge into the report one pass over the pool gives;
* **keyed stages** (dedup, split) need the whole pool, but only a few key columns of it (ids,
  sources, instruction texts, scenarios): the records wait in a spill file while the plan is made
  from the key columns, then stream out of it again with the plan applied;
* every other stage (inject, paraphrase, approve) holds its input in memory: they work on the
  small pools that reach them (a few hundred seed questions, not millions of log lines).

So peak memory is the key columns of the largest keyed stage plus a chunk, and the outputs are
byte-identical to chaining ``run_stage`` over the whole pool (tests/curate/test_streaming.py).
Nothing is written in the output folder until the last stage has run: a crash or a bad input row
leaves the folder as it was.
"""

from __future__ import annotations

import functools
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from celm.curate.pipeline import STAGES, PipelineConfig, StageContext, finish_run, load_inputs, stage_classifier
from celm.curate.report import StageReport
from celm.data.records import RECORD_TYPES, Record

ROW_STAGES = ("normalize", "filter", "classify", "norms", "leakage")
KEYED_STAGES = ("dedup", "split")

RowFn = Callable[[list[Record]], tuple[list[Record], StageReport]]


def row_stage(name: str, params: dict[str, Any], ctx: StageContext) -> RowFn:
    """A row stage ready to run chunk after chunk: what it needs once (a classifier, the
    evaluation set) is prepared here, not per chunk."""
    params = dict(params)
    if name == "classify":
        params["classifier"] = stage_classifier(ctx, model=params.pop("model", None), train_on=params.pop("train_on", ()))
    elif name == "leakage":
        params["eval_records"] = load_inputs(params.pop("eval", ("celm-bench",)), ctx.base_dir)
    return functools.partial(STAGES[name], ctx=ctx, **params)


def segments(stages: Sequence[tuple[str, dict]]) -> list[tuple[list[tuple[str, dict]], tuple[str, dict] | None]]:
    """The pipeline as (run of row stages, the whole-pool stage that ends it or None)."""
    out, run = [], []
    for stage in stages:
        if stage[0] in ROW_STAGES:
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
        for tmp, fh in self._files.values():
            fh.close()
            tmp.unlink(missing_ok=True)


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
            rows = RowRun([row_stage(name, params, ctx) for name, params in run], [name for name, _ in run], clock)
            mapped = rows.stream(chunks)
            if pool is None:
                chunks = mapped
                break
            name, params = pool
            if name in KEYED_STAGES:
                spill = Spill(out)
                spills.append(spill)
                keyed = _KEYED[name](params, ctx)
                for chunk in mapped:
                    t = time.perf_counter()
                    for r in chunk:
                        spill.add(r)
                        keyed.collect(r)
                    clock.add(name, t)
                _log_reports(rows.reports, reports, log)
                t = time.perf_counter()
                report = keyed.plan()
                clock.add(name, t)
                _log_reports([report], reports, log)
                if name == "split":  # the last stage: route the records to their files
                    writer = RecordSetWriter(out, list(keyed.shares))
                    for chunk in clock.timed("write", spill.read(chunk_size)):
                        for index, r in chunk:
                            writer.add(keyed.assignment[index], r)
                    break
                chunks = clock.timed(name, keyed.apply(spill, chunk_size))
            else:  # a stage that holds its input
                records = [r for chunk in mapped for r in chunk]
                _log_reports(rows.reports, reports, log)
                t = time.perf_counter()
                result, report = STAGES[name](records, ctx, **params)
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
        final = writer.count
        files = writer.close()
        writer = None
        return finish_run(config, reports, files, final)
    finally:
        if writer is not None:
            writer.abort()
        for spill in spills:
            spill.remove()


def _log_reports(new: Sequence[StageReport], reports: list[StageReport], log) -> None:
    for report in new:
        reports.append(report)
        log(report.summary())


# -- keyed stages: key columns in, a plan out, the plan applied to the spilled records --------------

class _DedupKeys:
    def __init__(self, params: dict, ctx: StageContext):
        from celm.curate.dedup import dedup_report

        self.params = {"threshold": 0.7, "priority": (), "semantic": None, **params}
        self.report = dedup_report(0, self.params["threshold"], self.params["priority"], self.params["semantic"])
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.heads: list[str | None] = []  # the note text, when it is not the normalised text

    def collect(self, r: Record) -> None:
        from celm.curate.fields import instruction_text
        from celm.data.stats import primary_text
        from celm.data.text import normalize_text

        text = normalize_text(instruction_text(r))
        head = primary_text(r)[:80]
        self.sources.append(r.provenance.source)
        self.ids.append(r.id)
        self.texts.append(text)
        self.heads.append(None if head == text[:80] else head)

    def plan(self) -> StageReport:
        from celm.curate.dedup import plan_dedup, priority_order

        order = priority_order(self.sources, self.params["priority"])
        self.sources = []
        plan = plan_dedup([self.texts[i] for i in order], threshold=self.params["threshold"],
                          semantic=self.params["semantic"], **({"num_perm": self.params["num_perm"]} if "num_perm" in self.params else {}))
        ids, texts, heads = self.ids, self.texts, self.heads
        plan.note(self.report, lambda p: ids[order[p]], lambda p: heads[order[p]] or texts[order[p]])
        self.dropped = {order[p] for p in plan.dropped}
        self.absorbed = {order[p]: [ids[order[k]] for k in members] for p, members in plan.absorbed.items()}
        self.texts = self.heads = []
        n = len(ids)
        self.ids = []
        report = self.report
        report.input = n
        report.dropped = len(self.dropped)
        report.details["clusters_with_duplicates"] = len(self.absorbed)
        return report.finish(n - len(self.dropped))

    def apply(self, spill: Spill, size: int) -> Iterator[list[Record]]:
        from celm.curate.dedup import with_absorbed

        dropped, absorbed = self.dropped, self.absorbed
        for chunk in spill.read(size, keep=lambda i: i not in dropped):
            yield [with_absorbed(r, absorbed[i]) if i in absorbed else r for i, r in chunk]


class _SplitKeys:
    def __init__(self, params: dict, ctx: StageContext):
        from celm.curate.split import normalized_shares

        self.shares = normalized_shares(params.get("shares"))
        self.threshold = params.get("threshold", 0.7)
        self.seed = ctx.seed
        self.ids: list[str] = []
        self.scenarios: list[str] = []
        self.texts: list[str] = []

    def collect(self, r: Record) -> None:
        from celm.curate.fields import instruction_text

        self.ids.append(r.id)
        self.scenarios.append(r.scenario or "")
        self.texts.append(instruction_text(r))

    def plan(self) -> StageReport:
        from celm.curate.dedup import near_duplicate_clusters
        from celm.curate.split import assign_splits

        clusters = near_duplicate_clusters(self.texts, threshold=self.threshold)
        self.assignment, details = assign_splits(self.ids, self.scenarios, clusters, self.shares, self.seed, self.threshold)
        n = len(self.ids)
        self.ids = self.scenarios = self.texts = []
        return StageReport(stage="split", input=n, details=details).finish(n)


_KEYED = {"dedup": _DedupKeys, "split": _SplitKeys}
