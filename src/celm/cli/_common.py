"""What every command shares: the console, and turning library errors into clear messages."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import typing

import typer
from rich.console import Console
from rich.markup import escape


def pipe_width() -> int | None:
    """Rich wraps at 80 columns when output is not a terminal (a pipe, a log, CI), which folds long
    option names and table rows into unreadable pieces; use 120 there unless COLUMNS says otherwise."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return 120


console = Console(width=pipe_width())
err_console = Console(stderr=True, width=pipe_width())


def friendly_errors(fn):
    """Show expected errors (bad data, missing files, bad specs) as one red message, exit code 2; Ray
    workers lost for good as one line, exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from celm.data.errors import DataValidationError
        from celm.models.catalog import ModelIntegrityError, ModelNotInstalledError

        try:
            return fn(*args, **kwargs)
        except DataValidationError as exc:
            err_console.print(f"[red]error:[/red] {len(exc.issues)} bad row(s); nothing was written")
            for issue in exc.issues[:50]:
                err_console.print(f"  {issue}", markup=False, highlight=False, soft_wrap=True)
            if len(exc.issues) > 50:
                err_console.print(f"  ... and {len(exc.issues) - 50} more")
            raise typer.Exit(2) from None
        except (FileNotFoundError, ValueError, KeyError, ModelNotInstalledError, ModelIntegrityError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            # escape: messages hold text like celm[chat-small] that Rich would read as markup
            err_console.print(f"[red]error:[/red] {escape(str(message))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/yellow]: finished work is saved; run the same command again to resume")
            sys.exit(130)
        except Exception as exc:
            exit_if_workers_lost(exc)
            raise

    return wrapper


def exit_if_workers_lost(exc: Exception) -> None:
    """Ray workers that kept dying (celm.scale.actors.WorkerLostError): one clear line, exit code 1."""
    from celm.scale.actors import WorkerLostError  # no Ray import: records and errors only

    if isinstance(exc, WorkerLostError):
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def config_options(cls: type, skip: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """A Typer option for each field of a config: its type from the annotation, its help and flags
    from the field's metadata. A dataclass (celm.settings.setting) gives its default to the option.
    A pydantic model (flags in ``json_schema_extra``) gives ``None``, meaning "not set", so that a
    YAML file read later keeps its value; its help says the model's default instead. A mapping
    field takes ``NAME=VALUE`` pairs; fields of other types (nested models) are left to the YAML file."""
    if not dataclasses.is_dataclass(cls):
        return _model_options(cls, skip)
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if default is dataclasses.MISSING:
            default = ...  # a required setting: a required option
        option = typer.Option(default, *f.metadata.get("flags", ()), help=f.metadata.get("help"))
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hints[f.name]))
    return params


def _without_none(annotation):
    """``X | None`` -> ``X``; anything else as it is."""
    import types

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _option_type(annotation):
    """What Typer can parse for a field's type (``X | None`` as X, a ``Literal`` as str), or None."""
    from pathlib import Path

    annotation = _without_none(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return str
    if _is_mapping(annotation):
        return list[str]  # KEY=VALUE, repeated (as_mapping reads them)
    if typing.get_origin(annotation) is list and typing.get_args(annotation) in ((str,), (Path,)):
        return annotation
    return annotation if annotation in (str, int, float, bool, Path) else None


def _is_mapping(annotation) -> bool:
    return typing.get_origin(_without_none(annotation)) is dict


def as_mapping(items: list[str], option: str) -> dict:
    """``["sft=0.6", "rm=0.2"]`` -> ``{"sft": 0.6, "rm": 0.2}`` (values read as YAML scalars)."""
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint=option)
        out[key.strip()] = yaml.safe_load(value)
    return out


def _shown(default) -> str:
    if default in (None, []):
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, float):
        return f"{default:g}"
    return ", ".join(map(str, default)) if isinstance(default, list) else str(default)


def _model_options(cls: type, skip: tuple[str, ...]) -> list[inspect.Parameter]:
    params = []
    for name, f in cls.model_fields.items():
        kind = _option_type(f.annotation)
        if name in skip or kind is None:
            continue
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        flags = tuple(extra.get("flags", ()))
        if kind is bool and not any("/" in flag for flag in flags):
            dashed = flags[0] if flags else f"--{name.replace('_', '-')}"
            flags = (f"{dashed}/--no-{dashed.removeprefix('--')}",)
        default = f.get_default(call_default_factory=True)
        choices = typing.get_args(f.annotation) if typing.get_origin(f.annotation) is typing.Literal else ()
        shown = extra.get("default_help") or (
            f"{' | '.join(choices)}; default {default}" if choices
            else f"default {_shown(default)}")
        text = f.description or name.replace("_", " ")
        help_text = text if f.is_required() or "default" in text else f"{text} ({shown})"
        option = typer.Option(... if f.is_required() else None, *flags, help=help_text, show_default=False)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind | None))
    return params


def with_config(cls: type, skip: tuple[str, ...] = ()):
    """Give a command one option per field of ``cls`` (after its own options; not those in
    ``skip``); the command gets them as one dict, ``settings``, to adjust (a shortcut flag may set a
    field) and build ``cls`` from. For a pydantic config the dict holds only the options given."""

    def decorate(fn):
        own = inspect.signature(fn).parameters
        hints = typing.get_type_hints(fn)
        fields = config_options(cls, skip)
        names = {p.name for p in fields}
        clash = names & set(own)
        if clash:
            raise TypeError(f"{fn.__name__}: options {sorted(clash)} are fields of {cls.__name__} already")
        given_only = not dataclasses.is_dataclass(cls)
        mappings = {p.name for p in fields if given_only and _is_mapping(cls.model_fields[p.name].annotation)}

        @functools.wraps(fn)
        def command(**options):
            settings = {name: options.pop(name) for name in names}
            if given_only:
                settings = {k: v for k, v in settings.items() if v not in (None, [], ())}
            for name in mappings & set(settings):
                settings[name] = as_mapping(settings[name], "--" + name.replace("_", "-"))
            return fn(settings=settings, **options)

        mine = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation))
                for p in own.values() if p.name != "settings"]
        command.__signature__ = inspect.Signature(fields + mine)  # what Typer reads the options from
        return command

    return decorate



RAY_HELP = ("run on Ray (extra celm\\[scale]): --ray alone starts a local Ray, --ray HOST:PORT (or ray://HOST:PORT, "
            "auto) joins a running cluster; see docs/scale.md")


def ray_option():
    """``--ray [ADDRESS]`` (see ``expand_ray_flag`` for the bare ``--ray``)."""
    return typer.Option(None, "--ray", metavar="[ADDRESS]", help=RAY_HELP)


def _is_ray_address(token: str) -> bool:
    import re

    return token in ("local", "auto") or token.startswith("ray://") or bool(re.fullmatch(r"[\w.\-\[\]:]+:\d+", token))


def expand_ray_flag(argv: list[str]) -> list[str]:
    """``--ray`` not followed by an address (``HOST:PORT``, ``ray://…``, ``auto``, ``local``) means
    ``--ray local``: a Ray started on this machine for the run."""
    out: list[str] = []
    for k, token in enumerate(argv):
        out.append(token)
        if token == "--ray" and (k + 1 == len(argv) or not _is_ray_address(argv[k + 1])):
            out.append("local")
    return out
