"""The swaptally command: serve, migrate, seed, accounts and tokens, import and export, sample
data, backup and restore."""

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from sqlalchemy import inspect
from sqlmodel import Session

from app import accounts, crud, exports, sample_data
from app import backup as backups
from app import migrate as migrations
from app import seed as bundled_seed
from app.db import make_engine
from app.metrics import MULTIPROCESS_ENV
from app.models import Role, StagePublic
from app.settings import Settings
from app.timeline import TimelineFilters, timeline_page

cli = typer.Typer(help="Swap Tally: prisoner exchanges, stage by stage.", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Apply every database migration (upgrade to head)."""
    migrations.upgrade(Settings().database_url)
    typer.echo("Database is at the latest schema.")


@cli.command()
def seed() -> None:
    """Load the bundled real exchanges: new ones are added, those only the seed ever wrote are
    brought up to date, and those an editor has changed are left as they are."""
    engine = make_engine(Settings().database_url)
    try:
        with Session(engine) as session, session.begin():
            report = bundled_seed.load(session)
    finally:
        engine.dispose()
    revised = f", {report.revised} revised" if report.revised else ""
    typer.echo(f"Seed: {report.added} exchange(s) added{revised}.")


@contextmanager
def _migrated_session(table: str) -> Iterator[Session]:
    """A session on the configured database, which must be migrated already (has `table`)."""
    engine = make_engine(Settings().database_url)
    try:
        if not inspect(engine).has_table(table):
            typer.echo("No schema yet: run `swaptally migrate` first.", err=True)
            raise typer.Exit(1)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _refused(error: accounts.AccountError) -> typer.Exit:
    typer.echo(f"Error: {error.field}: {error}.", err=True)
    return typer.Exit(1)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@cli.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="The user's email address; they sign in with it.")],
    role: Annotated[Role, typer.Option(help="Admins also manage users.")] = "editor",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")
    ] = False,
) -> None:
    """Add a user who can sign in to the editor (asks for the password twice, hidden)."""
    password = _read_password(password_stdin)
    with _migrated_session("user") as session:
        try:
            user = accounts.create_user(session, email=email, password=password, role=role)
        except accounts.AccountError as error:
            raise _refused(error) from None
        session.commit()
        typer.echo(f"Created {user.role} {user.email}.")


@cli.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The email address the user signs in with.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")
    ] = False,
) -> None:
    """Give a user a new password (asks twice, hidden): every session of theirs ends and their
    sign-in limit is lifted. For a forgotten password, or an admin locked out."""
    with _migrated_session("user") as session:
        user = accounts.get_user_by_email(session, email)
        if user is None:
            typer.echo(f"Error: email: no user {email.strip()!r}.", err=True)
            raise typer.Exit(1)
        try:
            accounts.set_password(session, user=user, password=_read_password(password_stdin))
        except accounts.AccountError as error:
            raise _refused(error) from None
        session.commit()
        typer.echo(f"New password set for {user.email}; their sessions have ended.")


@cli.command("create-token")
def create_token(
    email: Annotated[str, typer.Argument(help="The email address of the token's owner.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'newsroom script'.")],
) -> None:
    """Make a personal API token; it is printed once, on the last line, and never stored."""
    with _migrated_session("user") as session:
        user = accounts.get_user_by_email(session, email)
        if user is None or not user.is_active:
            typer.echo(f"Error: email: no active user {email.strip()!r}.", err=True)
            raise typer.Exit(1)
        try:
            token, plain = accounts.create_token(session, user=user, name=name)
        except accounts.AccountError as error:
            raise _refused(error) from None
        session.commit()
        typer.echo(f"API token {token.name!r} for {user.email}. It is shown only this once:")
        typer.echo(plain)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Apply migrations, then serve the app with uvicorn.

    Several workers add up their metrics in PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder
    unless set)."""
    import uvicorn

    from app import logs

    logs.configure()
    settings = Settings()
    migrations.upgrade(settings.database_url)
    with _metrics_folder(workers):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **uvicorn_settings(settings),
        )


def uvicorn_settings(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn; `make bench` serves its bare reference app the same way.

    uvloop and httptools (uvicorn[standard]) wherever they install, else asyncio and h11;
    uvicorn's own records go through our JSON handler, and the app writes the access log."""
    return {
        "loop": "auto",
        "http": "auto",
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "log_config": None,
        "log_level": "info",
        "access_log": False,
    }


@contextmanager
def _metrics_folder(workers: int) -> Iterator[None]:
    """Workers are separate processes: prometheus-client adds up their figures through files
    in one folder, which must be set before they start and hold nothing from an earlier run."""
    given = os.environ.get(MULTIPROCESS_ENV)
    if workers == 1 and not given:
        yield
        return
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="swaptally-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(folder)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


@cli.command("generate-sample")
def generate_sample(
    exchanges: Annotated[int, typer.Option(min=1, help="Sample exchanges to add.")] = 200,
    stages: Annotated[int, typer.Option(min=0, help="Stages spread over them.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 1,
) -> None:
    """Add a large synthetic data set (slugs sample-0001, ...) for benchmarks and demos."""
    engine = make_engine(Settings().database_url)
    try:
        if not inspect(engine).has_table("stage"):
            typer.echo("No schema yet: run `swaptally migrate` first.", err=True)
            raise typer.Exit(1)
        started = time.perf_counter()
        try:
            sample_data.generate(engine, exchanges=exchanges, stages=stages, seed=seed)
        except sample_data.SampleDataExists as error:
            typer.echo(f"Error: {error}.", err=True)
            raise typer.Exit(1) from None
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    typer.echo(f"Generated {exchanges} exchange(s) and {stages} stage(s) in {elapsed:.1f} s.")


@cli.command("import")
def import_csv(
    file: Annotated[
        str, typer.Argument(metavar="FILE.csv", help="Stages in the CSV export's layout.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; save nothing.")
    ] = False,
) -> None:
    """Import exchanges and stages from CSV in the export's layout. Exit code 1: some stages were
    refused (the others are saved); 2: nothing could be imported."""
    from pathlib import Path

    from app import importer

    try:
        text = importer.decode(Path(file).read_bytes())
    except OSError as error:
        typer.echo(f"Error: cannot read {file}: {error.strerror or error}.", err=True)
        raise typer.Exit(2) from None
    except importer.UnreadableFile as error:
        typer.echo(f"Error: {file}: {error}.", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(Settings().database_url)
    try:
        if not inspect(engine).has_table("stage"):
            typer.echo("No schema yet: run `swaptally migrate` first.", err=True)
            raise typer.Exit(2)
        with Session(engine) as session:
            report = importer.import_csv(
                session, text, actor="swaptally import", user_id=None, dry_run=dry_run
            )
    except (importer.UnreadableFile, importer.ImportConflict) as error:
        typer.echo(f"Error: {file}: {error}.", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    for entry in report.entries:
        typer.echo(entry.describe())
    typer.echo(report.summary())
    if report.refused:
        raise typer.Exit(1)


@cli.command()
def export(
    output_format: Annotated[
        Literal["csv", "json"],
        typer.Option("--format", help="csv: the layout `swaptally import` reads."),
    ] = "csv",
) -> None:
    """Print every published exchange and stage, as CSV or JSON.

    CSV is /api/v1/stages.csv, which `swaptally import` reads back; JSON is a list of
    /api/v1/exchanges/{slug} answers."""
    with _migrated_session("stage") as session:
        if output_format == "json":
            details = [
                crud.get_exchange(session, slug=exchange.slug)
                for exchange in crud.list_exchanges(session)
            ]
            shapes = [detail.model_dump(mode="json") for detail in details if detail]
            typer.echo(json.dumps(shapes, ensure_ascii=False, indent=2))
            return
        stages: list[StagePublic] = []
        filters = TimelineFilters()
        while True:
            page = timeline_page(session, filters, size=1000)
            stages += page.stages
            if page.next is None:
                break
            filters = TimelineFilters(page=page.next)
        names = exports.exchange_names(session, slugs={stage.exchange for stage in stages})
        typer.echo(exports.stages_csv(stages, names), nl=False)


@cli.command()
def backup(
    path: Annotated[Path, typer.Argument(help="The file to write (replaced if it exists).")],
) -> None:
    """Copy the whole database to PATH, while the app runs.

    SQLite: the online backup API; PostgreSQL: pg_dump's custom format."""
    try:
        backups.backup(Settings().database_url, path)
    except backups.BackupError as error:
        typer.echo(f"Error: {error}.", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Backup written to {path}.")


@cli.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `swaptally backup`.")],
) -> None:
    """Replace the database's content with a backup written by `swaptally backup`.

    Stop the app first; `swaptally migrate` then brings an older backup to the latest schema."""
    try:
        backups.restore(Settings().database_url, path)
    except backups.BackupError as error:
        typer.echo(f"Error: {error}.", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Restored {path}.")


def main() -> None:
    cli()
