"""The estate the agents look at: the sandbox or the live services, their signals, directory and runbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class EstateSection(BaseModel):
    """What the estate is and where its catalog, directory and runbooks come from."""

    sandbox_scenario: Path | None = Field(
        default=None,
        description="Scenario file whose world and events before the first message `serve` starts from.",
    )

    estate: Literal["sandbox", "live"] = Field(
        default="sandbox",
        description="sandbox: the simulated estate; live: the services of ACTIONDESK_SERVICES_FILE, their signals, "
        "logs, changes and fixes from the configured Prometheus, Loki, Kubernetes, Argo CD and CI/CD.",
    )

    services_file: Path | None = Field(
        default=None,
        description="YAML service catalog (services: tier, environment, depends_on, aliases, owner, signals, "
        "kubernetes, argocd, cicd); required by the live estate, re-read when it changes.",
    )

    prometheus_window: str = Field(
        default="1m",
        pattern=r"^[1-9][0-9]*(ms|s|m|h)$",
        description="The range the live estate's PromQL takes rates over ({window} in the catalog's queries).",
    )

    cicd_rollback_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How long a rollback requested from a CI/CD workflow waits for the pipeline to report the "
        "version deployed (POST /api/changes) before the action fails.",
    )

    directory_file: Path | None = Field(
        default=None,
        description="YAML file of people and groups; empty: the sandbox estate's directory.",
    )

    runbook_dir: Path | None = Field(
        default=None,
        description="Extra YAML runbooks; a runbook here replaces a built-in one of the same name.",
    )
