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
    """Show expected errors (bad data, missing files, bad specs) as one red message, exit code 2."""

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

    return wrapper


def config_options(cls: type) -> list[inspect.Parameter]:
    """A Typer option for each field of a config dataclass: its type from the annotation, its
    default, and its help and flags from the field's metadata (celm.settings.setting)."""
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if default is dataclasses.MISSING:
            default = ...  # a required setting: a required option
        option = typer.Option(default, *f.metadata.get("flags", ()), help=f.metadata.get("help"))
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=hints[f.name]))
    return params


def with_config(cls: type):
    """Give a command one option per field of ``cls`` (after its own options); the command gets
    them as one dict, ``settings``, to adjust (a shortcut flag may set a field) and build ``cls`` from."""

    def decorate(fn):
        own = inspect.signature(fn).parameters
        hints = typing.get_type_hints(fn)
        fields = config_options(cls)
        names = {p.name for p in fields}
        clash = names & set(own)
        if clash:
            raise TypeError(f"{fn.__name__}: options {sorted(clash)} are fields of {cls.__name__} already")

        @functools.wraps(fn)
        def command(**options):
            settings = {name: options.pop(name) for name in names}
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
