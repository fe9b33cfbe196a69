"""A curation pipeline on Ray Data, with the files one process writes, byte for byte.

The plan is the streaming executor's (celm.curate.streaming); what runs where changes:

* the input is read by the driver as a stream (validated exactly as ``read_records`` does) and
  handed to the cluster in blocks; each record travels as its JSON with its position ``idx``;
The stages are the objects of celm.curate.stages, as in one process.

* **row stages** (normalise, filter, classify, norms, leakage) run as ``map_batches`` over the
  blocks on the workers; each block's stage reports come back beside its rows and are merged in
  block order, which gives the report of one pass;
* **dedup** is distributed MinHash LSH: workers shingle and sign the unique texts and emit one row
  per LSH band; a shuffle (``groupby`` on a hash of the band key) brings each band bucket together,
  where candidate pairs are taken (the same windowed rule as ``near_duplicate_clusters``) and
  confirmed by exact Jaccard of the n-gram sets. The driver joins confirmed pairs into connected
  components (SciPy) and makes the same ``DedupPlan``; workers apply it block by block, reading the
  decision arrays from the object store (shared memory, not each worker's heap);
* **split** uses the same distributed clustering, so near-duplicate clusters stay in one split;
* any other keyed stage collects its key columns on the driver as the records stream past, plans
  there, and is applied block by block on the workers;
* global stages (inject, paraphrase, approve) run on the driver, as in one process.

The driver holds a few numbers per instruction (position keys, text hashes, cluster roots: about
40 bytes) and the ids of dropped duplicates; workers hold one block or one shuffle partition.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from celm.curate.pipeline import PipelineConfig
from celm.curate.report import StageReport
from celm.curate.stages import KeyedStage, StageContext, make_stage
from celm.curate.stages.dedup import Dedup
from celm.curate.stages.split import Split
from celm.curate.streaming import RecordSetWriter, finish_written, input_chunks, segments
from celm.data.records import RECORD_TYPES, Record

#: Rows per input block (one map task).
BLOCK_ROWS = 20_000
#: Target band rows per shuffle partition: partitions grow with the pool in number, not in size.
PARTITION_ROWS = 100_000
_RANK_SHIFT = 40  # okey = priority rank << 40 | idx: positions in dedup's priority order


def _text_hash(text: str) -> tuple[int, int]:
    d = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    return int.from_bytes(d[:8], "little", signed=True), int.from_bytes(d[8:], "little", signed=True)


def _to_table(records: Sequence[Record], start: int):
    import pyarrow as pa

    rows = _to_rows(records, start)
    return pa.table({"idx": pa.array(rows["idx"], pa.int64()), "rtype": pa.array(rows["rtype"].tolist(), pa.string()),
                     "rec": pa.array(rows["rec"].tolist(), pa.string())})


def _to_rows(records: Sequence[Record], start: int) -> dict[str, np.ndarray]:
    return {"idx": np.arange(start, start + len(records), dtype=np.int64),
            "rtype": np.array([r.record_type for r in records], dtype=object),
            "rec": np.array([r.model_dump_json() for r in records], dtype=object)}


def _from_rows(batch: dict[str, np.ndarray]) -> list[Record]:
    return [RECORD_TYPES[t].model_validate_json(j) for t, j in zip(batch["rtype"], batch["rec"])]


class _RowSegment:
    """A block through a run of row stages. Row stages keep, change or drop records, never add or
    reorder them, so the survivors take positions ``first + k``: still unique and in order. The
    stages' reports ride along as JSON in the first row's ``reports`` column (a retried task
    replaces its rows, so reports are never counted twice); a block left empty keeps one marker
    row (negative ``idx``) for its reports."""

    def __init__(self, fns):
        self.fns = fns

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        first = int(batch["idx"][0])
        records = _from_rows(batch)
        reports = []
        for fn in self.fns:
            records, report = fn(records)
            reports.append(report.model_dump_json())
        if not records:
            return {"idx": np.array([-1 - first], dtype=np.int64), "rtype": np.array([""], dtype=object),
                    "rec": np.array([""], dtype=object), "reports": np.array([json.dumps(reports)], dtype=object)}
        rows = _to_rows(records, first)
        rows["reports"] = np.array([json.dumps(reports)] + [""] * (len(records) - 1), dtype=object)
        return rows


def _drop_markers(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    keep = batch["idx"] >= 0
    return {k: batch[k][keep] for k in ("idx", "rtype", "rec")}


def _band_rows(batch: dict[str, np.ndarray], *, num_perm: int, bands: int, parts: int) -> dict[str, np.ndarray]:
    """One row per (text, band): the band's key, the text's position key and the text itself."""
    from celm.curate.dedup import minhash_signatures, shingle_arrays

    texts = list(batch["text"])
    values, offsets = shingle_arrays(texts, 3)
    sig = minhash_signatures(values, offsets, num_perm)
    rows = num_perm // bands
    mix = np.random.default_rng(2).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    keys = []
    with np.errstate(over="ignore"):
        for band in range(bands):
            keys.append((sig[:, band * rows:(band + 1) * rows].astype(np.uint64) * mix).sum(axis=1))
    key = np.stack(keys, axis=1).reshape(-1)  # text-major: (t0 b0, t0 b1, ...)
    band = np.tile(np.arange(bands, dtype=np.int64), len(texts))
    with np.errstate(over="ignore"):
        part = ((key ^ (band.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))) % np.uint64(parts)).astype(np.int64)
    return {"part": part, "band": band, "key": key.view(np.int64), "okey": np.repeat(batch["okey"], bands),
            "text": np.repeat(batch["text"], bands)}


def _confirmed_pairs(batch: dict[str, np.ndarray], *, threshold: float) -> dict[str, np.ndarray]:
    """In one shuffle partition: for each band, the candidate pairs of its buckets
    (``bucket_pairs``, the rule one process uses), confirmed by exact Jaccard of the texts' 3-gram
    sets (pairs already joined in this partition are skipped: the components do not change)."""
    from celm.curate.dedup import bucket_pairs, confirm_pairs, shingle_arrays

    okey, band, key, texts = batch["okey"], batch["band"], batch["key"], batch["text"]
    okey_of, text_of, where = np.unique(okey, return_index=True, return_inverse=True)
    found = []
    for b in np.unique(band):
        rows = np.flatnonzero(band == b)
        rows = rows[np.argsort(where[rows], kind="stable")]  # members in position order
        found.append(bucket_pairs(key[rows], where[rows]))
    pairs = np.unique(np.concatenate(found), axis=0) if found else np.zeros((0, 2), dtype=np.int64)
    if not len(pairs):
        return {"a": np.zeros(0, dtype=np.int64), "b": np.zeros(0, dtype=np.int64)}
    values, offsets = shingle_arrays([texts[k] for k in text_of], 3)  # each text once
    local = confirm_pairs(values, offsets, pairs, threshold)
    return {"a": okey_of[local[:, 0]].astype(np.int64), "b": okey_of[local[:, 1]].astype(np.int64)}


def distributed_clusters(ds, *, threshold: float, num_perm: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Near-duplicate clusters of a dataset with columns ``okey`` (unique, ordered) and ``text``
    (normalised): okeys sorted, and for each the first okey of its exact-duplicate group and of its
    cluster. The same clusters as ``near_duplicate_clusters`` over the texts in okey order."""
    from celm.curate.dedup import components_from_pairs, lsh_bands
    from celm.data.overlap import NUM_PERM

    num_perm = num_perm or NUM_PERM
    hashes = _collect(ds.map_batches(_hash_columns, batch_format="numpy", batch_size=None), ("okey", "h1", "h2"))
    order = np.lexsort((hashes["okey"], hashes["h2"], hashes["h1"]))
    h1, h2, ok = hashes["h1"][order], hashes["h2"][order], hashes["okey"][order]
    new_group = np.ones(len(ok), dtype=bool)
    new_group[1:] = (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])
    group_first = np.maximum.accumulate(np.where(new_group, np.arange(len(ok)), 0))
    exact_rep = np.empty(len(ok), dtype=np.int64)
    exact_rep[order] = ok[group_first]  # texts equal (by 128-bit hash) share the smallest okey
    okeys = hashes["okey"]
    reps = np.sort(ok[new_group]) if len(ok) else np.zeros(0, dtype=np.int64)
    bands = lsh_bands(num_perm, threshold)
    parts = max(1, int(np.ceil(len(reps) * bands / PARTITION_ROWS)))
    rep_ref = _put(reps)
    rep_blocks = ds.map_batches(_keep_okeys, fn_kwargs={"okeys": rep_ref}, batch_format="numpy", batch_size=None).to_arrow_refs()
    pairs = _shuffle_and_confirm(rep_blocks, num_perm=num_perm, bands=bands, parts=parts, threshold=threshold)
    # connected components over the unique texts; a component's root is its smallest okey
    n = len(reps)
    root = reps[components_from_pairs(n, np.searchsorted(reps, pairs["a"]), np.searchsorted(reps, pairs["b"]))] if n else reps
    cluster = root[np.searchsorted(reps, exact_rep)] if n else exact_rep
    sort = np.argsort(okeys, kind="stable")
    return okeys[sort], exact_rep[sort], cluster[sort]


def _shuffle_and_confirm(blocks, *, num_perm: int, bands: int, parts: int, threshold: float) -> dict[str, np.ndarray]:
    """The band-key shuffle as Ray tasks: each map task signs one block of texts and returns its band
    rows cut into ``parts`` pieces by a hash of the band key (object refs, spilled to disk when the
    object store fills); each reduce task pulls its piece of every block, which is one partition,
    and confirms that partition's candidate pairs. A task holds one block or one partition, and
    partitions grow in number with the pool, not in size. (Ray Data's groupby, hash or sort
    shuffle, gave 2.0 GiB workers at 250k instructions and 4.5 GiB at 1M here: its aggregators and
    output blocks grow with the pool.)"""
    import ray

    split = ray.remote(_band_pieces).options(num_returns=parts)
    pieces = [split.remote(block, num_perm=num_perm, bands=bands, parts=parts) for block in blocks]
    if parts == 1:
        pieces = [[p] for p in pieces]
    reduce = ray.remote(_reduce_partition)
    pending = [reduce.remote(threshold, *[row[p] for row in pieces]) for p in range(parts)]
    found: dict[str, list[np.ndarray]] = {"a": [], "b": []}
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        got = ray.get(done[0])
        found["a"].append(got["a"])
        found["b"].append(got["b"])
    return {k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64) for k, v in found.items()}


def _band_pieces(table, *, num_perm: int, bands: int, parts: int):
    if not table.num_rows:
        empty = {"band": np.zeros(0, np.int64), "key": np.zeros(0, np.int64), "okey": np.zeros(0, np.int64),
                 "text": np.zeros(0, dtype=object)}
        return tuple(dict(empty) for _ in range(parts)) if parts > 1 else empty
    rows = _band_rows({"okey": table.column("okey").to_numpy(), "text": np.array(table.column("text").to_pylist(), dtype=object)},
                      num_perm=num_perm, bands=bands, parts=parts)
    order = np.argsort(rows["part"], kind="stable")
    cuts = np.searchsorted(rows["part"][order], np.arange(1, parts))
    out = tuple({k: v[idx] for k, v in rows.items() if k != "part"} for idx in np.split(order, cuts))
    return out if parts > 1 else out[0]


def _reduce_partition(threshold: float, *pieces):
    batch = {k: np.concatenate([p[k] for p in pieces]) for k in ("band", "key", "okey", "text")}
    if not len(batch["okey"]):
        return {"a": np.zeros(0, dtype=np.int64), "b": np.zeros(0, dtype=np.int64)}
    return _confirmed_pairs(batch, threshold=threshold)


def _hash_columns(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    h = [_text_hash(t) for t in batch["text"]]
    return {"okey": batch["okey"], "h1": np.array([a for a, _ in h], dtype=np.int64),
            "h2": np.array([b for _, b in h], dtype=np.int64)}


def _keep_okeys(batch: dict[str, np.ndarray], *, okeys) -> dict[str, np.ndarray]:
    wanted = _get(okeys)
    mask = np.isin(batch["okey"], wanted)
    return {"okey": batch["okey"][mask], "text": batch["text"][mask]}


def _put(array):
    import ray

    return ray.put(array)


def _get(ref):
    import ray

    return ray.get(ref) if isinstance(ref, ray.ObjectRef) else ref


def _collect(ds, columns: Sequence[str]) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
        for c in columns:
            parts[c].append(np.asarray(batch[c]))
    return {c: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for c, v in parts.items()}


# -- the executor ------------------------------------------------------------------------------

class _Pool:
    """The pool between stages: a materialised Ray dataset of (idx, rtype, rec[, reports]) rows."""

    def __init__(self, ds):
        self.ds = ds

    def records(self) -> Iterator[tuple[int, Record]]:
        for batch in self.ds.iter_batches(batch_format="numpy", batch_size=None):
            for i, t, j in zip(batch["idx"], batch["rtype"], batch["rec"]):
                if i >= 0:
                    yield int(i), RECORD_TYPES[t].model_validate_json(j)


def _reports_of(ds, fns) -> list[StageReport]:
    """The run's reports: the blocks' reports merged in position order."""
    blocks = []
    for batch in ds.select_columns(["idx", "reports"]).iter_batches(batch_format="numpy", batch_size=None):
        for i, rep in zip(batch["idx"], batch["reports"]):
            if rep:
                blocks.append((int(i) if i >= 0 else -1 - int(i), rep))
    merged = [fn([])[1] for fn in fns]
    for _, rep in sorted(blocks):
        for k, one in enumerate(json.loads(rep)):
            merged[k].merge(StageReport.model_validate_json(one))
    return merged


def run_pipeline_on_ray(config: PipelineConfig, *, address: str = "local", log=print, block_rows: int = BLOCK_ROWS,
                        timings: dict | None = None) -> dict[str, Any]:
    """``run_pipeline`` on Ray Data (see the module's docstring); the same files, byte for byte."""
    from celm.scale.cluster import connect, describe

    ray = connect(address)
    import ray.data

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True

    log(describe())
    timings = timings if timings is not None else {}
    ctx = StageContext(seed=config.seed, base_dir=config.base_dir)
    out = config.output
    out.mkdir(parents=True, exist_ok=True)
    reports: list[StageReport] = []

    @contextlib.contextmanager
    def timed(name):
        start = time.perf_counter()
        try:
            yield
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start

    with timed("read"):
        refs, start = [], 0
        for chunk in input_chunks(config.input, config.base_dir, block_rows):
            refs.append(ray.put(_to_table(chunk, start)))
            start += len(chunk)
        ds = _from_refs(refs)
    writer = None
    try:
        for run, pool in segments(config.stages):
            fns = [make_stage(name, params, ctx).apply for name, params in run]  # type: ignore[attr-defined]
            with timed("+".join(n for n, _ in run) or "pass"):
                if fns:
                    ds = ds.map_batches(_RowSegment(fns), batch_format="numpy", batch_size=None).materialize()
                    for report in _reports_of(ds, fns):
                        reports.append(report)
                        log(report.summary())
                    ds = ds.map_batches(_drop_markers, batch_format="numpy", batch_size=None).materialize()
            if pool is None:
                break
            name, params = pool
            stage = make_stage(name, params, ctx)
            with timed(name):
                if isinstance(stage, Dedup):
                    ds, report = _dedup(ds, stage)
                elif isinstance(stage, Split):
                    report = _split(ds, stage)
                elif isinstance(stage, KeyedStage):
                    ds, report = _keyed_on_driver(ds, stage)
                else:
                    records = [r for _, r in _Pool(ds).records()]
                    result, report = stage.run(records)
                    ds = _from_refs([ray.put(_to_table(result[s:s + block_rows], s)) for s in range(0, len(result), block_rows)])
            reports.append(report)
            log(report.summary())
            if isinstance(stage, KeyedStage) and stage.routes:
                with timed("write"):
                    writer = RecordSetWriter(out, stage.set_names())
                    for i, r in _Pool(ds).records():
                        writer.add(stage.set_of(i), r)
                break
        if writer is None:
            with timed("write"):
                writer = RecordSetWriter(out, ["curated"])
                for _, r in _Pool(ds).records():
                    writer.add("curated", r)
        return finish_written(config, reports, writer)
    finally:
        if writer is not None:
            writer.abort()


def _from_refs(refs):
    import ray
    import ray.data

    return ray.data.from_arrow_refs(refs or [ray.put(_to_table([], 0))])


def _dedup_keys(batch: dict[str, np.ndarray], *, ranks: dict[str, int]) -> dict[str, np.ndarray]:
    records = _from_rows(batch)
    default = len(ranks)
    okey = np.array([(ranks.get(r.provenance.source, default) << _RANK_SHIFT) | int(i)
                     for r, i in zip(records, batch["idx"])], dtype=np.int64)
    return {"okey": okey, "text": np.array([Dedup.key_text(r) for r in records], dtype=object)}


def _dedup(ds, stage: Dedup):
    """The dedup stage with distributed clustering: okeys order the records as ``priority_order``
    does, so positions in okey order are the stage's priority positions."""
    from celm.curate.dedup import DedupPlan

    if stage.params.semantic is not None:
        raise ValueError("dedup: 'semantic' (embedding) dedup runs in one process; drop it or run without --ray")
    keys = ds.map_batches(_dedup_keys, fn_kwargs={"ranks": stage.priority_ranks()}, batch_format="numpy",
                          batch_size=None).materialize()
    okeys, exact, cluster = distributed_clusters(keys, threshold=stage.params.threshold, num_perm=stage.params.num_perm)
    plan = DedupPlan.from_clusters(np.searchsorted(okeys, exact).tolist(), np.searchsorted(okeys, cluster).tolist())
    idx_of = okeys & ((1 << _RANK_SHIFT) - 1)
    wanted = sorted({*plan.dropped, *plan.absorbed})
    info = _fetch(ds, idx_of[wanted]) if wanted else {}
    report = stage.finish_plan(plan, len(okeys), id_of=lambda p: info[int(idx_of[p])][0],
                               text_of=lambda p: info[int(idx_of[p])][1], index_of=lambda p: int(idx_of[p]))
    dropped = np.array(sorted(stage.dropped), dtype=np.int64)
    absorbed = stage.absorbed
    import pyarrow as pa
    import ray

    targets = np.array(sorted(absorbed), dtype=np.int64)
    table = pa.table({"idx": targets, "ids": pa.array([absorbed[int(t)] for t in targets], type=pa.list_(pa.string()))})
    applied = ds.map_batches(_apply_dedup, fn_kwargs={"dropped": ray.put(dropped), "absorbed": ray.put(table)},
                             batch_format="numpy", batch_size=None).materialize()
    return applied, report


def _fetch(ds, idxs: np.ndarray) -> dict[int, tuple[str, str]]:
    """(id, primary text) of a few records, by position."""
    import ray

    wanted = ray.put(np.sort(np.asarray(idxs, dtype=np.int64)))
    got = ds.map_batches(_pick, fn_kwargs={"idxs": wanted}, batch_format="numpy", batch_size=None)
    return {int(i): (rid, text) for batch in got.iter_batches(batch_format="numpy", batch_size=None)
            for i, rid, text in zip(batch["idx"], batch["id"], batch["text"])}


def _pick(batch, *, idxs):
    from celm.data.stats import primary_text

    mask = np.isin(batch["idx"], _get(idxs))
    sub = {k: v[mask] for k, v in batch.items()}
    records = _from_rows(sub)
    return {"idx": sub["idx"], "id": np.array([r.id for r in records], dtype=object),
            "text": np.array([primary_text(r) for r in records], dtype=object)}


def _apply_dedup(batch, *, dropped, absorbed):
    from celm.curate.dedup import with_absorbed

    dropped, table = _get(dropped), _get(absorbed)
    keep = ~np.isin(batch["idx"], dropped)
    sub = {k: v[keep] for k, v in batch.items()}
    targets = table.column("idx").to_numpy()
    at = np.searchsorted(targets, sub["idx"])
    hit = (at < len(targets)) & (targets[np.minimum(at, max(len(targets) - 1, 0))] == sub["idx"]) if len(targets) else np.zeros(len(sub["idx"]), bool)
    if hit.any():
        ids = table.column("ids")
        recs = sub["rec"].copy()
        for k in np.flatnonzero(hit):
            r = RECORD_TYPES[sub["rtype"][k]].model_validate_json(recs[k])
            recs[k] = with_absorbed(r, ids[int(at[k])].as_py()).model_dump_json()
        sub["rec"] = recs
    return sub


def _split_keys(batch):
    from celm.data.text import normalize_text

    keys = [Split.keys(r) for r in _from_rows(batch)]
    return {"okey": batch["idx"], "text": np.array([normalize_text(text) for _, _, text in keys], dtype=object),
            "id": np.array([rid for rid, _, _ in keys], dtype=object),
            "scenario": np.array([scenario for _, scenario, _ in keys], dtype=object)}


def _split(ds, stage: Split) -> StageReport:
    """The split stage with distributed clustering; the records keep their positions (``idx``)."""
    keys = ds.map_batches(_split_keys, batch_format="numpy", batch_size=None).materialize()
    okeys, _, cluster = distributed_clusters(keys, threshold=stage.params.threshold)
    cols = _collect(keys, ("okey", "id", "scenario"))
    order = np.argsort(cols["okey"], kind="stable")
    ids, scenarios = cols["id"][order].tolist(), cols["scenario"][order].tolist()
    return stage.assign(ids, scenarios, np.searchsorted(okeys, cluster).tolist(), indices=okeys.tolist())


def _keyed_on_driver(ds, stage: KeyedStage):
    """A keyed stage without a distributed version: the driver collects its key columns as the
    records stream past and plans; the workers apply the plan block by block."""
    for i, r in _Pool(ds).records():
        stage.collect(r)
    report = stage.plan()
    if stage.routes:
        return ds, report
    return ds.map_batches(_ApplyKeyed(stage), batch_format="numpy", batch_size=None).materialize(), report


class _ApplyKeyed:
    def __init__(self, stage: KeyedStage):
        self.stage = stage

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keep = np.array([self.stage.keeps(int(i)) for i in batch["idx"]], dtype=bool)
        sub = {k: batch[k][keep] for k in ("idx", "rtype", "rec")}
        records = [self.stage.apply(int(i), r) for i, r in zip(sub["idx"], _from_rows(sub))]
        sub["rec"] = np.array([r.model_dump_json() for r in records], dtype=object)
        sub["rtype"] = np.array([r.record_type for r in records], dtype=object)
        return sub


__all__ = ["distributed_clusters", "run_pipeline_on_ray"]
