"""What every `actiondesk` command shares: the settings (with the command's overrides) and how a failure ends it."""

from __future__ import annotations

import logging

import typer

from actiondesk.bot.wiring.logs import configure_logging
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.settings import Settings

log = logging.getLogger("actiondesk")


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings()
    except ValueError as exc:
        typer.echo(f"error: invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    update = {k: v for k, v in overrides.items() if v is not None}
    settings = settings.model_copy(update=update)
    configure_logging(settings)
    return settings


def fail(exc: ActionDeskError, settings: Settings | None = None) -> typer.Exit:
    if settings is not None and settings.log_format == "json":
        log.error("%s", exc)  # a JSON line like every other one the process writes
    else:
        typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2)
