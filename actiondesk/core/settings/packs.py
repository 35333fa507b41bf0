"""The action space (issue 6): the systems the built-in packs reach, and each pack's service-account secret
and scopes."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class PackSection(BaseModel):
    """The packs' systems and service accounts."""

    granted_scopes: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Narrow a pack\'s service account, JSON: {"deployments": ["deployments:read"]}.',
    )

    kubernetes_url: str | None = Field(
        default=None, description="Kubernetes API server URL; enables the kubernetes pack."
    )

    prometheus_url: str | None = Field(default=None, description="Prometheus URL; enables the prometheus pack.")

    loki_url: str | None = Field(default=None, description="Loki URL; enables the loki pack.")

    argocd_url: str | None = Field(default=None, description="Argo CD URL; enables the argocd pack.")

    pack_dir: Path | None = Field(default=None, description="Extra declarative HTTP pack files (*.yaml).")

    pack_urls: dict[str, str] = Field(
        default_factory=dict,
        description='Base URL of each declarative HTTP pack, JSON: {"statuspage": "https://api.statuspage.io/v1"}.',
    )

    pack_credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Service-account secrets by credential name, JSON: {"kubernetes": "TOKEN", "argocd": "TOKEN"}.',
    )
