"""Curation stages, one module each, registered by name (``STAGES``).

A stage is a class with a ``name``, a ``kind`` (row / keyed / global, see ``base``), a typed
``Params`` model and the methods of its kind; the ``@stage`` decorator registers it. Every module
in this package is imported when the registry is first used, so adding a stage is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil

from celm.curate.stages.base import (
    STAGES, GlobalStage, KeyedStage, RowStage, Stage, StageContext, StageParams, make_stage, stage,
)


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")


_discover()

__all__ = ["STAGES", "GlobalStage", "KeyedStage", "RowStage", "Stage", "StageContext", "StageParams", "make_stage",
           "stage"]
