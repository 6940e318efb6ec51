"""The swaptally command: serve, migrate, seed, generate-sample."""

import time
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlmodel import Session

from app import migrate as migrations
from app import sample_data
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


def main() -> None:
    cli()
