"""谐音字: sensitive words written with characters of the same sound, as people write past keyword filters.

赌博 -> 堵搏, 诈骗 -> 炸片. A prompt with no lexicon word gets ``n`` ordinary characters swapped for
homophones instead (怎么 -> 咋嘛), chosen with the item's seed.
"""

from __future__ import annotations

import random

from celm.attack.base import Strategy, Transformed, option
from celm.attack.lexicon import keywords, lexicon, substituted


class Homophone(Strategy, name="homophone", family="chinese", summary="谐音字: 赌博 -> 堵搏"):
    def __init__(self, **options: str):
        self.n = int(option(options, "n", "3"))
        super().__init__(**options)

    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        lex = lexicon()
        found = keywords(prompt, "homophone")
        if found:
            return substituted(prompt, found, lambda w: lex.words[w]["homophone"])
        positions = [i for i, c in enumerate(prompt) if c in lex.homophone_chars]
        picked = sorted(rng.sample(positions, min(self.n, len(positions))))
        chars = list(prompt)
        for i in picked:
            chars[i] = lex.homophone_chars[prompt[i]]
        return Transformed("".join(chars), {"replaced": {prompt[i]: chars[i] for i in picked}, "fallback": True})
