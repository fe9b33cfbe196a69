"""celm serve: the annotation and red-teaming web app (标注与红队平台)."""

from __future__ import annotations

import os

import typer

from celm.cli._common import console, friendly_errors

app = typer.Typer(help="The annotation and red-teaming web app. `celm serve` starts it; `celm serve create-user` adds accounts.",
                  invoke_without_command=True)
DB_HELP = "database URL: sqlite:///celm-annotations.db (default) or postgresql+psycopg://user:pw@host/db"


@app.callback()
def serve(
    ctx: typer.Context,
    db: str = typer.Option("sqlite:///celm-annotations.db", "--db", envvar="CELM_DB", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 for a team network)"),
    port: int = typer.Option(8000),
    secret: str = typer.Option(None, envvar="CELM_SECRET", help="cookie-signing secret; set it so sessions survive restarts"),
    secure_cookies: bool = typer.Option(False, help="send cookies over HTTPS only (set behind TLS)"),
    block_size: int = typer.Option(2000, help="finished items per review block"),
    sample_size: int = typer.Option(200, help="items the reviewer checks per block"),
    acceptance_bar: float = typer.Option(0.95, help="reviewer accuracy below which a block is returned"),
    redteam_model: list[str] = typer.Option(["echo"], help="model specs red-teamers may attack (repeat)"),
    workers: int = typer.Option(1, help="server processes (use about one per CPU core; needs --secret to share sessions)"),
) -> None:
    """Start the server. First create an admin: celm serve create-user admin --role admin"""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from celm.server import ServerSettings, create_app

    settings = ServerSettings(db_url=db, block_size=block_size, sample_size=sample_size, acceptance_bar=acceptance_bar,
                              secure_cookies=secure_cookies, redteam_models=tuple(redteam_model))
    if host not in ("127.0.0.1", "localhost", "::1") and not secure_cookies:
        console.print(f"[yellow]listening on {host} without --secure-cookies: session cookies travel in clear text "
                      "unless a TLS proxy is in front; use --secure-cookies behind HTTPS[/yellow]")
    if secret:
        settings.secret_key = secret
    else:
        console.print("[yellow]no --secret / CELM_SECRET: sessions end when the server restarts[/yellow]")
    console.print(f"celm annotation app on http://{host}:{port} ({db.split('://')[0]}, {workers} worker(s))")
    level = os.environ.get("CELM_LOG_LEVEL", "warning")
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=level)
        return
    import dataclasses
    import json

    create_app(settings)  # migrate and seed the test questions once, before the workers start
    os.environ["CELM_SERVER_SETTINGS"] = json.dumps({**dataclasses.asdict(settings), "migrate": False})
    uvicorn.run("celm.server.app:app_from_env", factory=True, workers=workers, host=host, port=port, log_level=level)


@app.command("create-user")
@friendly_errors
def create_user(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    role: str = typer.Option("annotator", help="admin | annotator | senior | reviewer | redteamer"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="CELM_PASSWORD"),
    db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
) -> None:
    """Create an account (the first admin, or anyone) from the command line.

    Example: celm serve create-user admin --role admin --db postgresql+psycopg://celm@db/celm
    """
    from celm.server.db import make_engine, make_sessionmaker, migrate
    from celm.server.workflow import WorkflowError, create_user as make

    url = db or ctx.obj["db"]
    migrate(url)
    with make_sessionmaker(make_engine(url))() as s:
        try:
            user = make(s, username, password, role)
        except WorkflowError as exc:
            raise ValueError(str(exc)) from None
    console.print(f"created {user.username} ({user.role})")
