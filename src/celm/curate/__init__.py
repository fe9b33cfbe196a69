"""Curation: normalise, deduplicate, augment, filter, classify, annotate and split (paper 3.2)."""
