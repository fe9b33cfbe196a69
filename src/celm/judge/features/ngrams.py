"""Character n-gram features for the judge, hashed into a fixed-size space.

Hashing keeps no vocabulary, so weights hold no training text. The hash is CRC-32 (zlib), and the
run-time scorer is plain NumPy: loading the judge imports neither scikit-learn nor SciPy (about 1.7 s
of imports on our machines), which is what lets the built-in weights load in well under two seconds.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from celm.data.text import normalize_text

N_FEATURES = 2**20
NGRAMS = (1, 2, 3)
_MASK = N_FEATURES - 1


def ngram_ids(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(feature ids, counts) of a text's character 1-3-grams.

    The text is encoded once as UTF-32 (four bytes a character) so every n-gram is a slice of one
    buffer; hashing slices is ~3x faster than encoding each n-gram.
    """
    t = normalize_text(text).lower()
    view = memoryview(t.encode("utf-32-le"))
    crc, length = zlib.crc32, len(t)
    ids = [crc(view[4 * i:4 * (i + n)]) & _MASK for n in NGRAMS for i in range(length - n + 1)]
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.unique(np.array(ids, dtype=np.int64), return_counts=True)


def count_matrix(texts: Sequence[str]):
    """Raw n-gram counts as a CSR matrix (training only; needs SciPy)."""
    import scipy.sparse as sp

    pairs = [ngram_ids(t) for t in texts]
    indptr = np.cumsum([0] + [len(ids) for ids, _ in pairs])
    indices = np.concatenate([ids for ids, _ in pairs]) if pairs else np.zeros(0, dtype=np.int64)
    data = np.concatenate([c for _, c in pairs]).astype(np.float32) if pairs else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(texts), N_FEATURES))


def fit_idf(counts) -> np.ndarray:
    """Smoothed inverse document frequency, as scikit-learn's TfidfTransformer computes it (over
    the count matrix's own width, so any hashed space works)."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)


def tfidf(counts, idf: np.ndarray):
    """Sublinear TF x IDF, rows L2-normalised (training only)."""
    import scipy.sparse as sp

    m = counts.copy().astype(np.float32)
    m.data = 1 + np.log(m.data)
    m = m @ sp.diags(idf)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sp.diags(1 / norms) @ m


def linear_scores(texts: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    """coef . tfidf(text) + intercept for each text, with NumPy only (the run-time path)."""
    out = np.empty(len(texts), dtype=np.float64)
    for k, t in enumerate(texts):
        ids, counts = ngram_ids(t)
        if not len(ids):
            out[k] = intercept
            continue
        vals = (1 + np.log(counts)) * idf[ids]
        out[k] = float(vals @ coef[ids]) / math.sqrt(float(vals @ vals)) + intercept
    return out
