"""拼音: sensitive words in pinyin (赌博 -> dubo) or by their initials (赌博 -> db), as people write them
in chats that filter characters. ``scope=all`` writes the whole prompt in pinyin instead.

Pinyin comes from pypinyin (its phrase dictionary picks the right reading of 重, 行, 长...).
"""

from __future__ import annotations

import random
import re

from celm.attack.base import Strategy, Transformed, option
from celm.attack.lexicon import replace_spans, target_spans


def to_pinyin(text: str, mode: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if mode == "initials":
        return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return "".join(lazy_pinyin(text, style=Style.TONE if mode == "tones" else Style.NORMAL))


class Pinyin(Strategy, name="pinyin", family="chinese",
             summary="拼音: 赌博 -> dubo (mode=full), db (mode=initials), dǔbó (mode=tones)"):
    def __init__(self, **options: str):
        self.mode = option(options, "mode", "full", ("full", "initials", "tones"))
        self.scope = option(options, "scope", "keywords", ("keywords", "all"))
        super().__init__(**options)

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        if self.scope == "all":
            from pypinyin import Style, lazy_pinyin

            style = {"initials": Style.FIRST_LETTER, "tones": Style.TONE, "full": Style.NORMAL}[self.mode]
            return Transformed(" ".join(lazy_pinyin(prompt, style=style)), {"mode": self.mode, "scope": "all"})
        spans, fallback = target_spans(prompt, rng)
        text = replace_spans(prompt, spans, lambda w: f" {to_pinyin(w, self.mode)} ")
        return Transformed(re.sub(r" {2,}", " ", text).strip(),
                           {"mode": self.mode, "replaced": {w: to_pinyin(w, self.mode) for _, _, w in spans},
                            **({"fallback": True} if fallback else {})})
