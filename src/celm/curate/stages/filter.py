"""filter: drop low-quality responses (the paper's categories, as named detectors)."""

from __future__ import annotations

import dataclasses
import typing

from pydantic import create_model

from celm.curate.filters import DETECTORS, FilterSettings
from celm.curate.stages.base import RowStage, StageParams, stage
from celm.settings import param

_HINTS = typing.get_type_hints(FilterSettings)
#: ``detectors`` plus every field of FilterSettings, with its default (written once, there).
FilterParams = create_model(
    "FilterParams", __base__=StageParams,
    detectors=(typing.Optional[list[str]], param(None, "detectors to run (repeat): " + ", ".join(DETECTORS)
                                                  + "; default all", "--detector")),
    **{f.name: (_HINTS[f.name], param(f.default, f.metadata["help"])) for f in dataclasses.fields(FilterSettings)})


@stage
class Filter(RowStage, name="filter"):
    """Drop low-quality responses: AI-template phrasing, bare refusals, too short, repetition, wrong language, off topic."""

    Params = FilterParams

    def apply(self, records):
        from celm.curate.filters import quality_filter

        settings = FilterSettings(**self.params.model_dump(exclude={"detectors"}))
        return quality_filter(records, detectors=self.params.detectors, settings=settings)
