"""User names: what may be one, and when two are the same.

A name is NFKC-normalised (full-width ``ａｄｍｉｎ`` is ``admin``) and compared case-folded
(``Admin`` is ``admin``): the folded form is ``User.name_key``, unique. The characters allowed are
a small safe set, ASCII letters and digits, ``. _ -``, and Chinese characters (CJK unified
ideographs). An allow-list rather than a confusables table: it refuses at once every look-alike
letter from another script (Cyrillic ``а`` in ``аdmin``, Greek ``ο``), zero-width characters, control
characters and bidirectional overrides, none of which a team's user names need."""

from __future__ import annotations

import unicodedata

from celm.server.errors import WorkflowError

MAX_LENGTH = 64
ALLOWED = "ASCII letters and digits, . _ - and Chinese characters (字母、数字、. _ - 和汉字)"
_ASCII_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _is_han(ch: str) -> bool:
    # CJK Unified Ideographs, extension A, and extensions B-F (rare characters of personal names);
    # compatibility ideographs are NFKC-mapped into these
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\U00020000" <= ch <= "\U0002ebef"


def normalize(raw: str) -> str:
    """The name as stored (NFKC, surrounding spaces dropped), or a 422 that says what is allowed."""
    name = unicodedata.normalize("NFKC", str(raw)).strip()
    if not 1 <= len(name) <= MAX_LENGTH:
        raise WorkflowError(f"user name must be 1-{MAX_LENGTH} characters", 422)
    bad = [ch for ch in name if ch not in _ASCII_OK and not _is_han(ch)]
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in dict.fromkeys(bad))
        raise WorkflowError(f"user name has characters outside the allowed set ({ALLOWED}): {shown}", 422)
    if name[0] in "._-":
        raise WorkflowError("user name must start with a letter, digit or Chinese character", 422)
    return name


def name_key(raw: str) -> str:
    """The form two names are compared in: normalised, then case-folded."""
    return normalize(raw).casefold()


def lookup_key(raw: str) -> str | None:
    """``name_key`` for a name typed at login; None for a name that could never have been created."""
    try:
        return name_key(raw)
    except WorkflowError:
        return None
