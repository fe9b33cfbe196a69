"""JADE 3.0's answers as four-verdict judge examples (JudgeExample, with the request).

JADE 3.0 (``jade-v3``) pairs each harmful question with a violating answer and a safe, helpful one.
A preference pair says only "risk or not"; a four-verdict judge also needs to know a refusal from a
helpful safe answer, and most of JADE's safe answers are refusals ("作为AI助手，我无法回答…"). So the
violating answer becomes ``risk`` and the safe one ``reject`` where the refusal detector
(:func:`celm.judge.rules.refusal.detect_refusal`) reads it as a refusal, else ``safe``.

These are the one public source of harmful requests *answered in compliance*, in whole sentences: the
case the judge misses most on prompt sources it never saw ("好的，以下是几种方法：1. …").
"""

from __future__ import annotations

from pathlib import Path

from celm.data.records import JudgeExample, Provenance

NAME = "jade-v3-verdicts"


def load(path: str | Path | None = None) -> list[JudgeExample]:
    from celm.data.sources.jade import load_v3
    from celm.judge.rules.refusal import detect_refusal

    out = []
    for pair in load_v3(path):
        for side, text in (("rejected", pair.rejected), ("chosen", pair.chosen)):
            label = "risk" if side == "rejected" else ("reject" if detect_refusal(text).refusal else "safe")
            out.append(JudgeExample(id=f"{pair.id}-{side}", instruction=pair.instruction, response=text, label=label,
                                    scenario=pair.scenario,
                                    provenance=Provenance(source=NAME, source_id=pair.provenance.source_id,
                                                          original_category=pair.provenance.original_category,
                                                          details={"side": side, "from": "jade-v3"})))
    return out
