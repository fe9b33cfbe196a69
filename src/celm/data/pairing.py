"""Ranked responses to preference pairs and SFT examples — the paper's rule, in one place.

Section 3.3: each response is ranked 0–6 (appendix A.1, lower is better); "responses with identical
scores are discarded" and "the remaining responses are ranked and paired". Per instruction every two
responses of different rank make a pair (the better one chosen); two of the same rank are a tie and
carry no preference; the same two texts make one pair however often they were sampled. Responses
ranked 0–1 ("correct and safe") are the SFT examples.

Both the annotation app's exports and ``celm loop`` call these functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from celm.data.records import PreferencePair, Provenance, SFTExample

#: the ranks whose responses are kept as safe, helpful SFT targets (A.1: "correct and safe")
TOP_RANKS = (0, 1)


@dataclass(frozen=True)
class RankedResponse:
    """One response with its final rank; ``id`` names the response (unique within a round or batch)."""

    id: str
    instruction: str
    response: str
    rank: int
    scenario: str | None = None
    norms: tuple[str, ...] = ()
    system: str | None = None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Pairing:
    pairs: list[PreferencePair]
    ties: int  # pairs of different texts with the same rank: discarded
    duplicates: int  # the same two texts again (sampling repeats an answer): one pair is kept
    instructions: int  # instructions that had at least two ranked responses


def rank_pairs(responses: Iterable[RankedResponse], *, source: str, method: str = "ranked") -> Pairing:
    """Every pair of different ranks per instruction, better one chosen; ties and repeats dropped."""
    groups: dict[str, list[RankedResponse]] = defaultdict(list)
    for r in responses:
        groups[r.instruction].append(r)
    pairs: list[PreferencePair] = []
    seen: set[tuple[str, str, str]] = set()
    ties = duplicates = with_two = 0
    for members in groups.values():
        if len(members) >= 2:
            with_two += 1
        ranked = sorted(members, key=lambda r: (r.rank, r.id))
        for better, worse in combinations(ranked, 2):
            key = (better.instruction, better.response.strip(), worse.response.strip())
            if key[1] == key[2]:
                continue  # one text sampled twice is not a comparison
            if better.rank == worse.rank:
                ties += 1
                continue
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            pairs.append(PreferencePair(
                id=f"{better.id}-over-{worse.id}", instruction=better.instruction, chosen=better.response,
                rejected=worse.response, system=None, scenario=better.scenario, norms=list(better.norms),
                provenance=Provenance(source=source, method=method,
                                      details={"chosen_id": better.id, "rejected_id": worse.id,
                                               "chosen_score": better.rank, "rejected_score": worse.rank})))
    return Pairing(pairs=pairs, ties=ties, duplicates=duplicates, instructions=with_two)


def top_ranked_sft(responses: Iterable[RankedResponse], *, source: str, method: str = "ranked") -> list[SFTExample]:
    """The responses ranked 0–1 as SFT examples; a response made under a system prompt is trained without it
    (context distillation: the safe behaviour is learned without the prompt that elicited it)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in responses:
        key = (r.instruction, r.response.strip())
        if r.rank not in TOP_RANKS or key in seen or not r.response.strip():
            continue
        seen.add(key)
        out.append(SFTExample(id=f"{r.id}-sft", instruction=r.instruction, output=r.response, scenario=r.scenario,
                              norms=list(r.norms),
                              provenance=Provenance(source=source, source_id=r.id, method=method,
                                                    details={"response_id": r.id, "score": r.rank,
                                                             "distilled": r.system is not None, **r.details})))
    return out
