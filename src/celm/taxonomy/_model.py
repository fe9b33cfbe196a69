"""Typed taxonomy objects, loaded from the packaged ``taxonomy.json``."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

Domain = Literal["ethical", "legal"]


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name_zh: str
    name_en: str
    domain: Domain
    china_centric: bool
    description_zh: str
    description_en: str


class Norm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    text_zh: str
    text_en: str
    scenarios: tuple[str, ...]
    laws: tuple[str, ...] = ()


class Taxonomy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    scenarios: tuple[Scenario, ...]
    norms: tuple[Norm, ...]

    @model_validator(mode="after")
    def _check_links(self) -> "Taxonomy":
        ids = [s.id for s in self.scenarios]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate scenario id")
        norm_ids = [n.id for n in self.norms]
        if len(set(norm_ids)) != len(norm_ids):
            raise ValueError("duplicate norm id")
        for norm in self.norms:
            unknown = set(norm.scenarios) - set(ids)
            if unknown:
                raise ValueError(f"norm {norm.id} names unknown scenarios {sorted(unknown)}")
        uncovered = set(ids) - {s for n in self.norms for s in n.scenarios}
        if uncovered:
            raise ValueError(f"scenarios without a norm: {sorted(uncovered)}")
        return self

    # -- look-ups -------------------------------------------------------------
    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(f"unknown scenario {scenario_id!r}; known: {', '.join(self.scenario_ids)}")

    def norm(self, norm_id: str) -> Norm:
        for n in self.norms:
            if n.id == norm_id:
                return n
        raise KeyError(f"unknown norm {norm_id!r}")

    @property
    def scenario_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scenarios)

    @property
    def norm_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.norms)

    @property
    def china_centric_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.scenarios if s.china_centric)

    def norms_for(self, scenario_id: str | None) -> tuple[str, ...]:
        """The norms that govern a scenario (empty for ``None``)."""
        if scenario_id is None:
            return ()
        self.scenario(scenario_id)
        return tuple(n.id for n in self.norms if scenario_id in n.scenarios)

    def domain_of(self, scenario_id: str) -> Domain:
        return self.scenario(scenario_id).domain

    def to_json_dict(self) -> dict:
        return {
            "scenarios": [s.model_dump() for s in self.scenarios],
            "norms": [n.model_dump() for n in self.norms],
        }


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    """The packaged CELM taxonomy (cached)."""
    raw = resources.files("celm.taxonomy").joinpath("taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.model_validate(json.loads(raw))
