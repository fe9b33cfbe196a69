"""繁体: the whole prompt in traditional characters (OpenCC: s2t, or Taiwan/Hong Kong standard), since
many safety filters and fine-tuning sets are simplified-only."""

from __future__ import annotations

import random
from functools import lru_cache

from celm.attack.base import Strategy, Transformed, option

_CONFIG = {"t": "s2t", "tw": "s2tw", "hk": "s2hk"}


@lru_cache(maxsize=None)
def converter(config: str):
    import opencc  # opencc-python-reimplemented: pure Python, ships its dictionaries

    return opencc.OpenCC(config)


class Traditional(Strategy, name="traditional", family="chinese", summary="繁体: 如何洗钱 -> 如何洗錢"):
    def __init__(self, **options: str):
        self.variant = option(options, "variant", "t", tuple(_CONFIG))
        super().__init__(**options)

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        return Transformed(converter(_CONFIG[self.variant]).convert(prompt), {"variant": self.variant})
