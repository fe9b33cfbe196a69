"""分隔符: a symbol or space inside each sensitive word (赌*博, 毒 品), which breaks exact keyword
matching while a reader (and a model) still reads the word."""

from __future__ import annotations

import random

from celm.attack.base import Strategy, Transformed, option
from celm.attack.lexicon import replace_spans, target_spans

#: what ``sep=random`` draws from
SEPARATORS = ("*", " ", "·", "/", "-", "_", ".", "❤")


class Separator(Strategy, name="separator", family="chinese", summary="分隔符: 赌博 -> 赌*博"):
    def __init__(self, **options: str):
        self.sep = option(options, "sep", "random")
        super().__init__(**options)

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        sep = rng.choice(SEPARATORS) if self.sep == "random" else self.sep
        spans, fallback = target_spans(prompt, rng)
        return Transformed(replace_spans(prompt, spans, sep.join),
                           {"sep": sep, "words": [w for _, _, w in spans], **({"fallback": True} if fallback else {})})
