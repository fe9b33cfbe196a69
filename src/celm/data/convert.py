"""Conversions between record types (one place, so no stage re-derives them by hand)."""

from __future__ import annotations

from collections.abc import Iterable

from celm.data.records import JudgeExample, PreferencePair, SFTExample


def pairs_to_judge_examples(pairs: Iterable[PreferencePair]) -> list[JudgeExample]:
    """chosen -> safe, rejected -> risk (the paper's judge is trained on D_RM pairs this way)."""
    out = []
    for p in pairs:
        for suffix, text, label in (("chosen", p.chosen, "safe"), ("rejected", p.rejected, "risk")):
            out.append(JudgeExample(id=f"{p.id}-{suffix}", instruction=p.instruction, response=text, label=label,
                                    scenario=p.scenario, norms=p.norms, provenance=p.provenance))
    return out


def pairs_to_sft(pairs: Iterable[PreferencePair]) -> list[SFTExample]:
    return [SFTExample(id=f"{p.id}-sft", instruction=p.instruction, input=p.input, output=p.chosen, system=p.system,
                       scenario=p.scenario, norms=p.norms, provenance=p.provenance) for p in pairs]
