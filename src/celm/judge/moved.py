"""Import paths of judge modules that now live in a room (``celm.judge.builtin`` is
``celm.judge.models.builtin``): scripts and notebooks written against the flat layout keep working.

One table and one import hook instead of a stub file per old name, so the package's top level lists
only what lives there. An old path imports the module at its new path, so both names are the same
module object (its classes, caches and registry entries are not duplicated).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old module path -> where it lives now
MOVED = {
    "celm.judge.builtin": "celm.judge.models.builtin",
    "celm.judge.fourway": "celm.judge.models.fourway",
    "celm.judge.keyword": "celm.judge.models.keyword",
    "celm.judge.llm": "celm.judge.models.llm",
    "celm.judge.guard": "celm.judge.models.guard",
    "celm.judge.guard_presets": "celm.judge.models.guard_presets",
    "celm.judge.hf_classifier": "celm.judge.models.hf_classifier",
    "celm.judge.probe": "celm.judge.models.probe",
    "celm.judge.train": "celm.judge.training.pair_v2",
    "celm.judge.train_fourway": "celm.judge.training.fourway",
    "celm.judge.train_probe": "celm.judge.training.probe",
    # celm.judge.features is the features room; its package re-exports the n-gram functions
    "celm.judge.pair_features": "celm.judge.features.pair",
    "celm.judge.embeddings": "celm.judge.features.embeddings",
    "celm.judge.refusal": "celm.judge.rules.refusal",
    "celm.judge.promotion": "celm.judge.rules.promotion",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        # appended after the path finder: a module or package that exists at a name always wins
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None  # a placeholder; exec_module puts the real module in its place

    def exec_module(self, module) -> None:
        # the import statement returns what sys.modules holds after this: the module at its new path
        sys.modules[module.__name__] = importlib.import_module(MOVED[module.__name__])


def install() -> None:
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules())
