"""Entry point of the ``celm`` command."""

from __future__ import annotations

import typer
import typer.rich_utils

from celm.cli import data as data_cmd
from celm.cli._common import pipe_width
from celm.cli.taxonomy import taxonomy

if typer.rich_utils.MAX_WIDTH is None:  # --help in a pipe: not folded at 80 columns
    typer.rich_utils.MAX_WIDTH = pipe_width()

app = typer.Typer(
    name="celm",
    help="celm: align LLMs with Chinese ethical and legal norms and measure their safety. 中文伦理与法律对齐工具包。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(taxonomy)
app.add_typer(data_cmd.app, name="data")


def _register_optional() -> None:
    # Command groups from later modules; each keeps its heavy imports inside its commands.
    import importlib

    for module, name in (("celm.cli.generate", None), ("celm.cli.judge", "judge"), ("celm.cli.evaluate", None),
                         ("celm.cli.attack", None),
                         ("celm.cli.report", "report"), ("celm.cli.models", "models"), ("celm.cli.train", "train"), ("celm.cli.curate", "curate"), ("celm.cli.serve", "serve"),
                         ("celm.cli.loop", "loop")):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if name:
            app.add_typer(mod.app, name=name)
        else:
            mod.register(app)


_register_optional()


def main() -> None:
    """The ``celm`` script: ``--ray`` with no address becomes ``--ray local`` first (Typer options
    cannot take an optional value), then the commands run."""
    import sys

    from celm.cli._common import expand_ray_flag

    sys.argv[1:] = expand_ray_flag(sys.argv[1:])
    app()


if __name__ == "__main__":
    main()
