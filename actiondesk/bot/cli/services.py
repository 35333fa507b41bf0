"""`actiondesk services validate [FILE]`: check a service catalog the way the live estate reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

services_app = typer.Typer(help="The live estate's service catalog.", no_args_is_help=True)


@services_app.command()
def validate(
    file: Annotated[
        Path | None,
        typer.Argument(help="The catalog to check; default ACTIONDESK_SERVICES_FILE.", show_default=False),
    ] = None,
) -> None:
    """Validate a service catalog: exit 0 when it is good, 1 with each problem as FILE:LINE: message."""
    from actiondesk.adapters.catalog import CatalogError, load_catalog

    if file is None:
        from actiondesk.core.settings import Settings

        try:
            file = Settings().services_file
        except ValueError as exc:
            typer.echo(f"error: invalid configuration: {exc}", err=True)
            raise typer.Exit(2) from None
        if file is None:
            typer.echo("error: give a FILE or set ACTIONDESK_SERVICES_FILE", err=True)
            raise typer.Exit(2)
    try:
        catalog = load_catalog(file)
    except CatalogError as exc:
        for line in exc.lines():
            typer.echo(line, err=True)
        raise typer.Exit(1) from None
    names = ", ".join(sorted(catalog.entries))
    typer.echo(f"{file}: {len(catalog.entries)} services, valid ({names})")
