"""拆字: characters written as their parts (骗 -> 马扁, 赌 -> 贝者), a filter-dodging habit as old as
Chinese chat rooms. The characters of sensitive words are split where celm's table knows them; a
prompt with no lexicon word has every character the table knows split."""

from __future__ import annotations

import random

from celm.attack.base import Strategy, Transformed
from celm.attack.lexicon import keywords, lexicon, substituted


class SplitChars(Strategy, name="split_chars", family="chinese", summary="拆字: 诈骗 -> 讠乍马扁"):
    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        table = lexicon().split_chars
        split_word = lambda w: "".join(table.get(c, c) for c in w)  # noqa: E731
        found = [s for s in keywords(prompt) if any(c in table for c in s[2])]
        if found:
            return substituted(prompt, found, split_word)
        chars = sorted({c for c in prompt if c in table})
        return Transformed(split_word(prompt), {"replaced": {c: table[c] for c in chars}, "fallback": True})
