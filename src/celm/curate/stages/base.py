"""What a curation stage is: a name, a kind, a typed params model, and the methods its kind needs.

The kind tells the engines (celm.curate.engine) how a stage can run without the whole pool:

* ``row``: looks at one record at a time. ``apply(records)`` runs on any slice of the pool (a
  chunk, a Ray block) and the slices' reports merge into the report of one pass;
* ``keyed``: needs the whole pool, but only a few key columns of it. ``collect(record)`` takes a
  record's keys, ``plan()`` decides from them, then ``keeps(i)`` / ``apply(i, record)`` /
  ``set_of(i)`` treat record ``i`` (its position in the pool) as the plan says. ``run`` is the
  same stage over a pool in memory;
* ``global``: holds its whole input in memory (``run``); used for the small pools that reach
  such stages (a few hundred seed questions, not millions of log lines).

What a stage needs once (a classifier, the evaluation set) is made in ``prepare``, not per chunk.

A stage names itself in its class line and lists its params as annotated class attributes, read like
a dataclass's fields into its ``Params`` model (``param`` gives one its help and flags: ``celm curate
NAME`` has an option for each); a stage that only calls a library function names it (``calls``) and
says nothing else::

    @stage
    class Norms(RowStage, name="norms", calls="celm.curate.norms:annotate_norms"):
        '''Attach the norms that govern each record's scenario.'''

        overwrite: bool = param(False, "replace norms a record already has")
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, create_model

from celm.curate.report import StageReport
from celm.data.records import Record
from celm.registry import Registry

StageKind = Literal["row", "keyed", "global"]


class StageParams(BaseModel):
    """A stage's settings, as written under its name in a pipeline file; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class StageContext:
    """What every curation stage is run with: the seed, the folder relative paths start from, and
    whether to show progress bars."""

    seed: int = 0
    base_dir: Path = Path(".")
    progress: bool = False

    def resolve(self, path: str | Path) -> Path:
        """A path from a pipeline file: relative paths start at ``base_dir``."""
        path = Path(path)
        return path if path.is_absolute() else self.base_dir / path


class Stage:
    """One curation stage, set up with its params and the run's context."""

    name: ClassVar[str]
    kind: ClassVar[StageKind]
    Params: ClassVar[type[StageParams]] = StageParams
    #: "module:function" of a stage that is that function over a pool: ``function(records, **params)``
    calls: ClassVar[str | None] = None

    def __init_subclass__(cls, name: str = "", calls: str | None = None, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        cls.name = name or getattr(cls, "name", "")
        cls.calls = calls or cls.calls
        hints = typing.get_type_hints(cls)
        own = [f for f in inspect.get_annotations(cls) if typing.get_origin(hints[f]) is not ClassVar]
        if own:
            fields = {f: (hints[f], cls.__dict__.get(f, ...)) for f in own}
            for f in own:  # the configured value lives in self.params, never in a class default
                if f in cls.__dict__:
                    delattr(cls, f)
            cls.Params = create_model(f"{cls.__name__}Params", __base__=StageParams, **fields)

    def __init__(self, params: StageParams | Mapping[str, Any] | None = None, ctx: StageContext | None = None):
        self.params = params if isinstance(params, self.Params) else self.Params.model_validate(dict(params or {}))
        self.ctx = ctx or StageContext()
        self.prepare()

    def prepare(self) -> None:
        """Make what the stage needs once (a classifier, the evaluation set)."""

    def run(self, records: list[Record]) -> tuple[Any, StageReport]:
        """The stage over a whole pool in memory: (records, or {set name: records} for a stage that
        routes to record sets) and its report."""
        return self.call(records)

    def call(self, records: list[Record]) -> tuple[Any, StageReport]:
        """The library function the stage ``calls``, over ``records`` with the stage's params."""
        if not self.calls:
            raise NotImplementedError(f"stage {self.name}: names no function (calls) and overrides no method")
        module, _, function = self.calls.partition(":")
        return getattr(importlib.import_module(module), function)(records, **self.params.model_dump())


class RowStage(Stage):
    kind = "row"

    def apply(self, records: list[Record]) -> tuple[list[Record], StageReport]:
        """The stage over any slice of the pool; keeps, changes or drops records, never adds or reorders."""
        return self.call(records)

    def run(self, records: list[Record]) -> tuple[list[Record], StageReport]:
        return self.apply(records)


class GlobalStage(Stage):
    kind = "global"


class KeyedStage(Stage):
    kind = "keyed"
    #: whether the stage routes records to named sets (then it must be the pipeline's last stage)
    routes: ClassVar[bool] = False

    def collect(self, record: Record) -> None:
        raise NotImplementedError

    def plan(self) -> StageReport:
        raise NotImplementedError

    def keeps(self, index: int) -> bool:
        return True

    def apply(self, index: int, record: Record) -> Record:
        return record

    def set_names(self) -> list[str]:
        """The record sets a routing stage writes, in order."""
        raise NotImplementedError

    def set_of(self, index: int) -> str:
        raise NotImplementedError

    def run(self, records: list[Record]) -> tuple[Any, StageReport]:
        """collect, plan and apply over a pool in memory (or the direct in-memory version the stage ``calls``)."""
        if self.calls:
            return self.call(records)
        for r in records:
            self.collect(r)
        report = self.plan()
        if self.routes:
            sets: dict[str, list[Record]] = {name: [] for name in self.set_names()}
            for i, r in enumerate(records):
                sets[self.set_of(i)].append(r)
            return sets, report
        return [self.apply(i, r) for i, r in enumerate(records) if self.keeps(i)], report


STAGES: Registry[type[Stage]] = Registry("curation stage")


def stage(cls: type[Stage]) -> type[Stage]:
    """Register a stage class under its ``name`` (a class decorator)."""
    if getattr(cls, "kind", None) not in ("row", "keyed", "global"):
        raise TypeError(f"stage {cls.__name__}: kind must be row, keyed or global")
    STAGES.register(cls.name, cls, help=(cls.__doc__ or "").strip().split("\n")[0])
    return cls


def make_stage(name: str, params: Mapping[str, Any] | None, ctx: StageContext) -> Stage:
    return STAGES.get(name)(params, ctx)
