"""Config dataclass fields that carry their own help text and command-line flags.

A library config (``EvalConfig``, ...) declares each setting once, with its type, default and help;
the CLI builds its options from those fields (celm.cli._common.config_options), the way TRL's
``TrlParser`` builds argparse options from dataclasses, so the library and the CLI cannot drift.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def setting(default: Any, help: str, *flags: str) -> Any:
    """A dataclass field: ``default`` (a list is copied per instance), its ``--help`` text and, where
    the option is not simply ``--field-name``, its flags (``"--model", "-m"``). ``default=...``: a
    required setting (declare it before the fields with defaults)."""
    metadata = {"help": help, "flags": flags}
    if default is ...:
        return field(metadata=metadata)
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)
