"""The swaptally command: serve, migrate, seed."""

from typing import Annotated

import typer
from sqlmodel import Session

from app import migrate as migrations
from app import seed as bundled_seed
from app.db import make_engine
from app.settings import Settings

cli = typer.Typer(help="Swap Tally: prisoner exchanges, stage by stage.", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Apply every database migration (upgrade to head)."""
    migrations.upgrade(Settings().database_url)
    typer.echo("Database is at the latest schema.")


@cli.command()
def seed() -> None:
    """Load the bundled real exchanges; exchanges already stored are left as they are."""
    engine = make_engine(Settings().database_url)
    try:
        with Session(engine) as session:
            added = bundled_seed.load(session)
    finally:
        engine.dispose()
    typer.echo(f"Seed: {added} exchange(s) added.")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Apply migrations, then serve the app with uvicorn."""
    import uvicorn

    migrations.upgrade(Settings().database_url)
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


def main() -> None:
    cli()
