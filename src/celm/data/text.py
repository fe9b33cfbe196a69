"""Text normalisation, in one place for all of celm.

NFKC folds full-width letters, digits and punctuation to their canonical forms; control characters
go, whitespace runs collapse. Traditional-to-simplified conversion is opt-in (it changes meaning in
a few words, so it is never silent) and uses OpenCC's dictionaries.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # opencc-python-reimplemented: pure Python, ships the dictionaries

    return opencc.OpenCC("t2s")


def normalize_text(text: str, *, to_simplified: bool = False) -> str:
    """NFKC, no control characters, collapsed spaces, at most one blank line; optionally t2s."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if to_simplified:
        text = _t2s().convert(text)
    return text
