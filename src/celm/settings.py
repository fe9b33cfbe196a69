"""Config fields (dataclass or pydantic) that carry their own help text and command-line flags.

A library config (``EvalConfig``, ...) declares each setting once, with its type, default and help;
the CLI builds its options from those fields (celm.cli._common.config_options), the way TRL's
``TrlParser`` builds argparse options from dataclasses, so the library and the CLI cannot drift.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
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


def param(default: Any, help: str, *flags: str) -> Any:
    """A pydantic field (a curation stage's params, a TrainConfig setting): ``default``, its
    ``--help`` text and, where the option is not simply ``--field-name``, its flags (a boolean's
    ``"--on/--off"`` pair included). ``default=...``: a required setting."""
    from pydantic import Field

    return Field(default=default, description=help, json_schema_extra={"flags": flags} if flags else None)


def read_settings_file(path: str | Path | None, what: str = "settings") -> dict[str, Any]:
    """A YAML settings file as a dict (empty without a path, or for an empty file); anything but a
    mapping is an error that names the file."""
    if not path:
        return {}
    import yaml

    loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping of {what}")
    return loaded
