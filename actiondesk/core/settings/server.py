"""Serving: the store, where `serve` listens, its logs and traces, and the tokens its inbound routes check.

Traces are OpenTelemetry over OTLP/HTTP, on only when an endpoint is set, under the standard OTEL_ names (issue 19).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator


class ServerSection(BaseModel):
    """The store, the server, its logs and traces, the inbound routes' tokens."""

    database_url: str = Field(
        default="sqlite:///./actiondesk.db",
        validation_alias=AliasChoices("DATABASE_URL", "ACTIONDESK_DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB.",
    )

    host: str = Field(default="127.0.0.1", description="Address `actiondesk serve` listens on.")

    port: int = Field(default=8080, ge=0, le=65535, description="Port `actiondesk serve` listens on.")

    log_level: str = Field(default="INFO", description="Python logging level.")

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one readable line per record; json: one JSON object per line (time, level, logger, "
        "message, case_id, trace_id), for log collectors.",
    )

    migrate_on_start: bool = Field(
        default=True,
        description="`serve` upgrades the database before it listens; false: it refuses to start on an old "
        "schema and `actiondesk db upgrade` (a Job, a one-shot container) migrates instead.",
    )

    alert_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Alertmanager sends to POST /api/alerts; empty: only loopback senders are heard.",
    )

    changes_token: SecretStr | None = Field(
        default=None,
        description="Bearer token CI/CD pipelines send to POST /api/changes; empty: the route answers 503.",
    )

    github_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret of the GitHub webhook (deployment_status) that POST /webhooks/github checks each "
        "X-Hub-Signature-256 with; empty: the route answers 503.",
    )

    github_services: dict[str, str] = Field(
        default_factory=dict,
        description="The service a GitHub deployment is of, by repository or repository@environment, JSON: "
        '{"shop/storefront": "storefront", "shop/api@production": "payment-gateway"}.',
    )

    argocd_webhook_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Argo CD notifications send to POST /webhooks/argocd; empty: the route answers 503.",
    )

    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTLP/HTTP base URL of a collector (http://collector:4318); spans go to its /v1/traces. "
        "Empty: no tracing at all.",
    )

    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        description="Full URL spans are sent to, used as given; overrides the base URL for traces.",
    )

    otel_exporter_otlp_headers: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_HEADERS"),
        description="Headers sent with every export, key=value pairs separated by commas (e.g. an API key).",
    )

    otel_service_name: str = Field(
        default="actiondesk",
        validation_alias=AliasChoices("OTEL_SERVICE_NAME"),
        description="service.name of the spans.",
    )

    @property
    def tracing(self) -> bool:
        """Whether spans are exported: an OTLP endpoint is configured."""
        return bool(self.otel_exporter_otlp_traces_endpoint or self.otel_exporter_otlp_endpoint)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value
