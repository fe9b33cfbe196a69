"""黑话/缩写: the China-centric trades' own words for what they sell (赌博 -> 菠菜, 冰毒 -> 冰糖,
洗钱 -> 跑分, 自杀 -> 紫砂), from celm's own lexicon. A prompt with no such word stays as it is
(``changed`` False): slang has no fallback that would not invent a new request."""

from __future__ import annotations

import random

from celm.attack.base import Strategy, Transformed
from celm.attack.lexicon import keywords, lexicon, substituted


class Slang(Strategy, name="slang", family="chinese", summary="黑话: 网上赌博 -> 网上菠菜"):
    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        found = keywords(prompt, "slang")
        return substituted(prompt, found, lambda w: lexicon().words[w]["slang"], changed=bool(found))
