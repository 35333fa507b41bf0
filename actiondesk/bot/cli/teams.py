"""`actiondesk teams ...` commands (registered by bot/cli/main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

teams_app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)


@teams_app.command("package")
def package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the app package (.zip).")],
    version: Annotated[str, typer.Option(help="The app's version, 1.2.3.")] = "0.1.0",
    website: Annotated[str, typer.Option(help="https URL of your ActionDesk deployment's home page.")] = (
        "https://example.com"
    ),
) -> None:
    """Write the Teams app package: manifest.json (bot id from MICROSOFT_APP_ID) and its two icons."""
    from actiondesk.bot.cli.support import fail as _fail
    from actiondesk.bot.cli.support import load_settings as _settings
    from actiondesk.bot.teams.package import write_package
    from actiondesk.core.errors import ActionDeskError

    settings = _settings()
    try:
        write_package(out, settings.microsoft_app_id.strip(), version=version, website=website)
    except ActionDeskError as exc:
        raise _fail(exc) from None
    typer.echo(f"Teams app package written to {out}")
