"""A small registry of named, lazily imported parts (model backends, judges, sources, exports).

Entries are ``"module:attribute"`` strings, so listing what exists never imports torch or vLLM;
the module loads the first time its entry is used. Adding a part means adding one module and one
line in its package's registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, str | T] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, target: str | T, help: str = "") -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered ({self._entries[name]!r}); pick another name")
        self._entries[name] = target
        self._help[name] = help

    def unregister(self, name: str) -> None:
        """Remove an entry (a test's own part, or a plugin being unloaded)."""
        self._entries.pop(name, None)
        self._help.pop(name, None)

    def get(self, name: str) -> T:
        try:
            target = self._entries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self._entries), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._entries))})") from None
        if isinstance(target, str):
            module_name, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = target
        return target  # type: ignore[return-value]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def help(self, name: str) -> str:
        return self._help.get(name, "")

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": n, "help": self._help[n]} for n in self.names()]
