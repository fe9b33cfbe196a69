"""Curation uses the judge (refusal cues, embeddings); the judge must not use curation back."""

import ast
from pathlib import Path

import celm.judge


def test_judge_does_not_import_curate():
    found = []
    for path in Path(celm.judge.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.name}: {n}" for n in names if n == "celm.curate" or n.startswith("celm.curate.")]
    assert not found, found
