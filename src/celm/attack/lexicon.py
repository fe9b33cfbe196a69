"""celm's own attack lexicon (lexicon.yaml): sensitive words, their homophones, slang and English, and
the character splits. Strategies that rewrite sensitive words find them here, longest first."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from celm.attack.base import Transformed

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")
#: characters a fallback never picks as a "key" span (they carry no request)
_FUNCTION_CHARS = set("的了吗呢吧啊我你他她它们是在有和与或一个这那些么什怎样如何请帮给把被让就也都还要会能可以")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Lexicon:
    words: dict[str, dict[str, str]]
    code_mix_words: dict[str, str]
    split_chars: dict[str, str]
    homophone_chars: dict[str, str]

    def pattern(self, field: str | None = None) -> re.Pattern | None:
        """Alternation of the words (that have ``field``), longest first so 网赌 wins over 赌."""
        words = [w for w, e in self.words.items() if field is None or e.get(field)]
        if not words:
            return None
        return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    return Lexicon(words={str(k): {f: str(v) for f, v in e.items()} for k, e in data["words"].items()},
                   code_mix_words={str(k): str(v) for k, v in data["code_mix_words"].items()},
                   split_chars={str(k): str(v) for k, v in data["split_chars"].items()},
                   homophone_chars={str(k): str(v) for k, v in data["homophone_chars"].items()})


def keywords(prompt: str, field: str | None = None) -> list[tuple[int, int, str]]:
    """Sensitive words in the prompt (start, end, word), non-overlapping, longest match first."""
    pat = lexicon().pattern(field)
    return [] if pat is None else [(m.start(), m.end(), m.group()) for m in pat.finditer(prompt)]


def homophone_forms(prompt: str) -> list[tuple[int, int, str]]:
    """The lexicon's homophone spellings in the prompt (堵搏), so a strategy chained after ``homophone``
    still finds the sensitive words it rewrote."""
    forms = sorted({e["homophone"] for e in lexicon().words.values() if e.get("homophone")}, key=len, reverse=True)
    pat = re.compile("|".join(re.escape(f) for f in forms))
    return [(m.start(), m.end(), m.group()) for m in pat.finditer(prompt)]


def fallback_spans(prompt: str, rng: random.Random, k: int = 2) -> list[tuple[int, int, str]]:
    """For a prompt with no lexicon word: up to ``k`` seeded two-character spans of content characters,
    so a lexicon-driven strategy still does something (recorded as ``fallback`` in its details)."""
    candidates = []
    for m in _HAN.finditer(prompt):
        for i in range(m.start(), m.end() - 1):
            pair = prompt[i:i + 2]
            if not (set(pair) & _FUNCTION_CHARS):
                candidates.append(i)
    picked: list[int] = []
    for i in rng.sample(candidates, len(candidates)):
        if all(abs(i - j) >= 2 for j in picked):
            picked.append(i)
        if len(picked) == k:
            break
    return [(i, i + 2, prompt[i:i + 2]) for i in sorted(picked)]


def replace_spans(prompt: str, spans: list[tuple[int, int, str]], rewrite) -> str:
    """The prompt with each span's text replaced by ``rewrite(text)``; spans do not overlap."""
    out, last = [], 0
    for start, end, text in sorted(spans):
        out += [prompt[last:start], rewrite(text)]
        last = end
    return "".join(out) + prompt[last:]


def substituted(prompt: str, spans: list[tuple[int, int, str]], rewrite, **details) -> Transformed:
    """The prompt with each span rewritten, recording what was replaced (word -> its rewrite) beside ``details``."""
    return Transformed(replace_spans(prompt, spans, rewrite), {"replaced": {w: rewrite(w) for _, _, w in spans}, **details})


def target_spans(prompt: str, rng: random.Random, field: str | None = None) -> tuple[list[tuple[int, int, str]], bool]:
    """The lexicon's words (or their homophone spellings) in the prompt, or (``fallback`` True) seeded
    content spans when there are none."""
    found = keywords(prompt, field) or homophone_forms(prompt)
    return (found, False) if found else (fallback_spans(prompt, rng), True)
