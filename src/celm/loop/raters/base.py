"""The rater contract: answers in, every rating out, with one ``final`` rating (the rank) per answer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from celm.data.records import Rating, Response


@dataclass
class RatingOutcome:
    ratings: list[Rating]  # every rating made; those with role "final" are the answers' ranks
    agreement: dict[str, Any] | None = None  # annotator agreement, when people rated
    details: dict[str, Any] = field(default_factory=dict)

    def ranks(self) -> dict[str, int]:
        """answer id -> final rank."""
        return {r.item_id: r.score for r in self.ratings if r.role == "final" and r.score is not None}


class Rater(ABC):
    #: "human" only when people made the ranks; reports print it beside every figure
    kind: Literal["human", "automatic"]

    def __init__(self, settings):
        self.settings = settings
        self.spec = settings.spec

    @property
    def description(self) -> str:
        return f"{self.spec} ({self.kind})"

    @abstractmethod
    def rate(self, responses: list[Response], round_folder, *, log: Callable[[str], None] = print) -> RatingOutcome:
        """Rank every answer 0-6; resumable: a call after a kill keeps what was already rated."""
