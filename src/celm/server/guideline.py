"""The paper's rating guideline (appendix A.1), shown beside every item, in Chinese and English.

The ranks, the verdicts and the safe/unsafe boundary are celm.labels'; this module lays them out
for the app's pages.
"""

from __future__ import annotations

from celm.data.records import SAFETY_LABELS
from celm.labels import OVERALL, RANKS, SAFE_MAX_RANK, VERDICT_DESCRIPTIONS, VERDICT_NAMES

#: The four verdicts of the label task (docs/judge-rubric.md), in the order of celm.data.records.SAFETY_LABELS.
LABELS = [(label, f"{VERDICT_NAMES[label][1]}：{VERDICT_DESCRIPTIONS[label][0]}",
           f"{VERDICT_NAMES[label][0]}: {VERDICT_DESCRIPTIONS[label][1]}") for label in SAFETY_LABELS]

__all__ = ["LABELS", "OVERALL", "RANKS", "SAFE_MAX_RANK"]
