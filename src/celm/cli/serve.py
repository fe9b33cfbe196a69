"""celm serve: the annotation and red-teaming web app (标注与红队平台)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from celm.cli._common import console, friendly_errors
from celm.server.settings import ServerSettings  # a plain dataclass: cheap to import

MB = 1024 * 1024

app = typer.Typer(help="The annotation and red-teaming web app. `celm serve` starts it; `celm serve create-user` adds accounts, "
                  "`disable-user` / `enable-user` / `reset-password` control them; "
                  "`audit` reads the audit trail; `backup` / `restore` copy the database.",
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
    workers: int = typer.Option(1, help="server processes on this machine (about one per CPU core; they share a generated session key). "
                                              "Servers on several machines need one --secret (CELM_SECRET); see docs/scale.md"),
    forwarded_allow_ips: str = typer.Option(",".join(ServerSettings.forwarded_allow_ips), envvar="CELM_FORWARDED_ALLOW_IPS",
                                            help="addresses of your reverse proxies, comma-separated (e.g. 127.0.0.1): only "
                                                 "their X-Forwarded-For is believed. Default: none (the peer is the client)"),
    allowed_host: list[str] = typer.Option([], help="a name the app answers to (repeat; the Host header is checked). "
                                                    "Default: 127.0.0.1, localhost and ::1, plus --host; any for 0.0.0.0"),
    max_upload_mb: float = typer.Option(ServerSettings.max_upload_bytes / MB, help="largest import or test-question "
                                                                                   "upload, in MiB (larger: 413)"),
    max_field_chars: int = typer.Option(ServerSettings.max_field_chars, help="longest imported instruction or response, "
                                                                             "in characters (longer: refused with file:line)"),
    session_max_s: int = typer.Option(ServerSettings.session_max_s, help="a login session ends this many seconds after login, however busy "
                                      "(beside the idle limit)"),
    claim_ttl_s: int = typer.Option(ServerSettings.claim_ttl_s, help="an item claimed and not rated for this many seconds goes back to the queue"),
    test_attempts: int = typer.Option(ServerSettings.test_attempts, help="failed attempts at a competence test before the cool-down"),
    test_cooldown_s: int = typer.Option(ServerSettings.test_cooldown_s, help="the window in which --test-attempts failures start the cool-down"),
) -> None:
    """Start the server. First create an admin: celm serve create-user admin --role admin"""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from celm.server import create_app

    from celm.server.proxy import default_hosts, uvicorn_options

    hosts = tuple(h.strip() for value in allowed_host for h in value.split(",") if h.strip()) or default_hosts(host)
    settings = ServerSettings(db_url=db, block_size=block_size, sample_size=sample_size, acceptance_bar=acceptance_bar,
                              secure_cookies=secure_cookies, redteam_models=tuple(redteam_model),
                              forwarded_allow_ips=tuple(ip.strip() for ip in forwarded_allow_ips.split(",") if ip.strip()),
                              allowed_hosts=hosts, max_upload_bytes=int(max_upload_mb * MB), max_field_chars=max_field_chars,
                              session_max_s=session_max_s, claim_ttl_s=claim_ttl_s, test_attempts=test_attempts,
                              test_cooldown_s=test_cooldown_s)
    if "*" in hosts and not allowed_host:
        console.print(f"[yellow]listening on {host} with no --allowed-host: any Host header is answered; name the ones "
                      "annotators use (--allowed-host annotate.example.org)[/yellow]")
    if host not in ("127.0.0.1", "localhost", "::1") and not secure_cookies:
        console.print(f"[yellow]listening on {host} without --secure-cookies: session cookies travel in clear text "
                      "unless a TLS proxy is in front; use --secure-cookies behind HTTPS[/yellow]")
    if secret:
        settings.secret_key = secret
    else:
        console.print("[yellow]no --secret / CELM_SECRET: sessions end when the server restarts[/yellow]")
    console.print(f"celm annotation app on http://{host}:{port} ({db.split('://')[0]}, {workers} worker(s))")
    level = os.environ.get("CELM_LOG_LEVEL", "warning")
    options = uvicorn_options(settings)
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=level, **options)
        return
    import dataclasses
    import json

    create_app(settings)  # migrate and seed the test questions once, before the workers start
    os.environ["CELM_SERVER_SETTINGS"] = json.dumps({**dataclasses.asdict(settings), "migrate": False})
    uvicorn.run("celm.server.app:app_from_env", factory=True, workers=workers, host=host, port=port, log_level=level, **options)


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
    from celm.server.errors import WorkflowError
    from celm.server.users import create_user as make

    url = db or ctx.obj["db"]
    migrate(url)
    with make_sessionmaker(make_engine(url))() as s:
        try:
            user = make(s, username, password, role)
        except WorkflowError as exc:
            raise ValueError(str(exc)) from None
    console.print(f"created {user.username} ({user.role})")


def _account(ctx: typer.Context, db: str | None, username: str, change) -> str:
    """Run ``change(session, user)`` on an existing account of an existing database; the account's name."""
    from celm.server.db import make_engine, make_sessionmaker, migrate
    from celm.server.errors import WorkflowError
    from celm.server.users import user_by_name

    url = _existing_db(ctx, db)
    migrate(url)
    with make_sessionmaker(make_engine(url))() as s:
        user = user_by_name(s, username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        try:
            change(s, user)
        except WorkflowError as exc:
            raise ValueError(str(exc)) from None
        return user.username


def _active_command(active: bool, doc: str, done: str):
    """``disable-user`` / ``enable-user``: one command each, the same steps (one place)."""
    def command(
        ctx: typer.Context,
        username: str = typer.Argument(..., help=f"the account to {'enable again' if active else 'disable'}"),
        db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
    ) -> None:
        from celm.server.users import set_active

        name = _account(ctx, db, username, lambda s, user: set_active(s, user.id, active))
        console.print(done.format(name=name))

    command.__doc__ = doc
    return friendly_errors(command)


app.command("disable-user")(_active_command(False, """Disable an account: it can no longer log in, and every session it has ends at once (its
    ratings and audit entries stay). Works while the app runs.

    Example: celm serve disable-user ann3 --db sqlite:///celm-annotations.db
    """, "disabled {name}; its sessions have ended"))
app.command("enable-user")(_active_command(True, """Enable a disabled account again.

    Example: celm serve enable-user ann3 --db sqlite:///celm-annotations.db
    """, "enabled {name}"))


@app.command("reset-password")
@friendly_errors
def reset_password(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="the account whose password is set"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="CELM_PASSWORD",
                                 help="the new password: at least 8 characters (12 for admins), not a common one"),
    db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
) -> None:
    """Set a new password for an account (a forgotten one, or a leaked one); every session of the
    account ends.

    Example: celm serve reset-password admin --db sqlite:///celm-annotations.db
    """
    from celm.server.users import set_password

    name = _account(ctx, db, username, lambda s, user: set_password(s, user.id, password))
    console.print(f"password of {name} set; its sessions have ended")


def _existing_db(ctx: typer.Context, db: str | None) -> str:
    """The URL of a database that must exist already (a read or a backup must not create an empty one)."""
    from celm.server.backup import sqlite_path

    url = db or ctx.obj["db"]
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    return url


@app.command("audit")
@friendly_errors
def audit_log(
    ctx: typer.Context,
    since: str = typer.Option(None, help="from this day or time on (UTC): 2026-12-01 or 2026-12-01T08:00"),
    action: str = typer.Option(None, help="only this action: login, login_failed, import, export, batch_close, user_created, "
                                          "role_changed, qualified, rating, adjudication, review, rating_superseded"),
    user: str = typer.Option(None, "--user", help="only this user (for login_failed: the name that was tried)"),
    limit: int = typer.Option(1000, help="at most this many entries, the newest"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
    db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
) -> None:
    """Read the audit trail (oldest first).

    Example: celm serve audit --since 2026-12-01 --action login_failed --db sqlite:///celm-annotations.db
    """
    import json

    from celm.server import audit
    from celm.server.db import make_engine, make_sessionmaker, migrate

    url = _existing_db(ctx, db)
    migrate(url)  # a database from before the audit trail gets its (empty) table
    with make_sessionmaker(make_engine(url))() as s:
        rows = audit.entries(s, since=audit.parse_since(since), action=action, username=user, limit=limit)[::-1]
    if as_json:
        for e in rows:
            typer.echo(json.dumps(audit.as_dict(e), ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("time (UTC)", "user", "action", "address", "details")
    for e in rows:
        table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), e.username or "-", e.action, e.address or "-", audit.details_text(e))
    console.print(table)
    if len(rows) == limit:
        console.print(f"[yellow]the newest {limit} entries only; narrow with --since / --action / --user or raise --limit[/yellow]")


@app.command("backup")
@friendly_errors
def backup_db(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="the backup file to write (must not exist)"),
    db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
) -> None:
    """Copy the database while the app keeps running (SQLite); for PostgreSQL, print the pg_dump command.

    Example: celm serve backup backups/celm-2026-12-01.db --db sqlite:///celm-annotations.db
    """
    from celm.server import backup

    url = db or ctx.obj["db"]
    if backup.sqlite_path(url) is None:
        _print_postgres(url, backup.pg_dump_command(url, path), "a consistent dump while the app runs")
        return
    figures = backup.backup_sqlite(_existing_db(ctx, db), path)
    console.print(f"backed up to {path}: " + ", ".join(f"{n} {table}" for table, n in figures.items()))


@app.command("restore")
@friendly_errors
def restore_db(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="a backup made by `celm serve backup`"),
    db: str = typer.Option(None, "--db", help=DB_HELP + "; also accepted before the subcommand"),
) -> None:
    """Replace the database by a backup (SQLite; refused while the app runs on it); for PostgreSQL,
    print the pg_restore command.

    Example: celm serve restore backups/celm-2026-12-01.db --db sqlite:///celm-annotations.db
    """
    from celm.server import backup

    url = db or ctx.obj["db"]
    if backup.sqlite_path(url) is None:
        _print_postgres(url, backup.pg_restore_command(url, path), "stop the app first; all or nothing")
        return
    try:
        figures = backup.restore_sqlite(url, path)
    except backup.AppRunning as exc:
        raise ValueError(f"refusing to restore: {exc}") from None
    console.print(f"restored {path} into {backup.sqlite_path(url)}: " + ", ".join(f"{n} {table}" for table, n in figures.items()))


def _print_postgres(url: str, command: str, note: str) -> None:
    """PostgreSQL's own tools do this properly: the command on stdout (to copy or run), the why on stderr."""
    from celm.cli._common import err_console

    if not url.startswith("postgresql"):
        raise ValueError(f"backup and restore know SQLite files and PostgreSQL; not {url.split(':')[0]}")
    err_console.print(f"PostgreSQL: run this ({note}; the password comes from PGPASSWORD or ~/.pgpass):")
    typer.echo(command)
