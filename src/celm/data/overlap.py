"""Near duplicates between two sets of texts: MinHash LSH over character n-grams (datasketch).

Jaccard similarity of character 3-gram sets, which suits Chinese (no word boundaries) and survives
small edits. LSH proposes candidates; each is confirmed with the exact Jaccard, so there are no false
positives. The judge's leakage check and curation's leakage stage use it (it lives in celm.data so
that the judge does not depend on curation); curation's bulk dedup (celm.curate.dedup) shares
NUM_PERM and jaccard.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from celm.data.text import normalize_text

NUM_PERM = 64
#: Character 3-gram Jaccard at which two texts count as near duplicates: curation's dedup, leakage and
#: split stages and their CLI options all default to it.
NEAR_DUPLICATE_THRESHOLD = 0.7


def char_ngrams(text: str, n: int = 3, *, normalized: bool = False) -> set[str]:
    text = text if normalized else normalize_text(text)
    if len(text) <= n:
        return {text} if text else set()
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def _crc32(data: bytes) -> int:
    # datasketch hashes every shingle with SHA-1 by default; CRC-32 is several times faster, stable
    # across runs and platforms, and ample for 32-bit MinHash values.
    return zlib.crc32(data)


def minhashes(gram_sets: Sequence[set[str]], num_perm: int = NUM_PERM) -> list:
    """One MinHash per set, sharing one set of permutations (``MinHash.bulk``)."""
    from datasketch import LeanMinHash, MinHash

    encoded = [sorted(g.encode("utf-8") for g in grams) for grams in gram_sets]
    return [LeanMinHash(m) for m in MinHash.bulk(encoded, num_perm=num_perm, seed=1, hashfunc=_crc32)]


def _lsh(threshold: float, num_perm: int):
    from datasketch import MinHashLSH

    # LSH proposes candidates below the real threshold (fewer misses); exact Jaccard then confirms.
    return MinHashLSH(threshold=max(0.3, threshold - 0.2), num_perm=num_perm)


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass(frozen=True)
class Overlap:
    query_index: int
    reference_index: int
    similarity: float


def find_overlaps(queries: Sequence[str], references: Sequence[str], *, threshold: float = NEAR_DUPLICATE_THRESHOLD,
                  num_perm: int = NUM_PERM, n: int = 3) -> list[Overlap]:
    """Pairs (query, reference) whose character n-gram Jaccard similarity is at least ``threshold``."""
    lsh = _lsh(threshold, num_perm)
    ref_grams = [char_ngrams(t, n) for t in references]
    for j, m in enumerate(minhashes(ref_grams, num_perm)):
        if ref_grams[j]:
            lsh.insert(j, m)
    query_grams = [char_ngrams(t, n) for t in queries]
    found = []
    for i, m in enumerate(minhashes(query_grams, num_perm)):
        if not query_grams[i]:
            continue
        for j in sorted(lsh.query(m)):
            sim = jaccard(query_grams[i], ref_grams[j])
            if sim >= threshold:
                found.append(Overlap(i, j, round(sim, 3)))
    return found
