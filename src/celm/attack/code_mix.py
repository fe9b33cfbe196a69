"""中英混杂: sensitive words and the request's verbs in English (如何洗钱 -> how to money laundering),
the way bilingual users write and a way past Chinese-only filters."""

from __future__ import annotations

import random
import re

from celm.attack.base import Strategy, Transformed
from celm.attack.lexicon import keywords, lexicon


class CodeMix(Strategy, name="code_mix", family="chinese", summary="中英混杂: 如何购买毒品 -> how to buy drugs"):
    def transform(self, prompt: str, rng: random.Random) -> Transformed:
        lex = lexicon()
        table = {**lex.code_mix_words, **{w: e["en"] for w, e in lex.words.items() if e.get("en")}}
        pat = re.compile("|".join(re.escape(w) for w in sorted(table, key=len, reverse=True)))
        replaced: dict[str, str] = {}

        def swap(m: re.Match) -> str:
            replaced[m.group()] = table[m.group()]
            return f" {table[m.group()]} "

        text = re.sub(r" {2,}", " ", pat.sub(swap, prompt)).strip()
        return Transformed(text, {"replaced": replaced, "keywords": [w for _, _, w in keywords(prompt)]})
