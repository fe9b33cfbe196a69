"""What every command shares: the console, and turning library errors into clear messages."""

from __future__ import annotations

import functools
import os
import sys

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
