"""The one Settings object. Built once by the composition root and passed down; nothing reads the
environment anywhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACTIONDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

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
    autonomy: dict[str, int] = Field(
        default_factory=dict,
        description='Autonomy level overrides, JSON: {"payment-gateway": 1, "tier:3": 3, "search@staging": 2}.',
    )
    audit_signing_key: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) that signs audit checkpoints."
    )
    audit_checkpoint_file: Path | None = Field(
        default=None, description="JSON Lines file, kept away from the database, that signed checkpoints go to."
    )
    audit_checkpoint_minutes: float = Field(
        default=15.0, gt=0, description="How often `serve` publishes a checkpoint when key and file are set."
    )
    infra_cost_per_hour: float = Field(
        default=0.0, ge=0, description="Infrastructure cost of running ActionDesk, in dollars per hour."
    )
    metrics_window_days: float = Field(default=7.0, gt=0, description="Window of the MTTR, FCR and cost gauges.")
    report_channel: str | None = Field(
        default=None, description="Slack channel id the weekly resolution report is posted to; empty: none."
    )
    report_cron: str = Field(
        default="0 9 * * 1", description="When the weekly report is posted (cron, UTC); it covers the 7 days before."
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
    agent_identity: str = Field(default="actiondesk", description="The name the agents act and audit under.")
    max_steps: int = Field(default=12, ge=1, description="Bound on loop steps per case before it escalates.")
    approval_ttl_seconds: int = Field(default=3600, ge=1, description="How long an approval request stays open.")
    verify_timeout_seconds: float = Field(
        default=120.0, ge=0, description="How long verification waits for the signal to return to baseline."
    )
    verify_interval_seconds: float = Field(default=10.0, gt=0, description="Pause between verification reads.")
    triage_lookback_minutes: int = Field(default=60, ge=5, description="Telemetry window triage reads.")
    change_window_minutes: int = Field(
        default=30, ge=1, description="How long before an onset a change counts as its suspect."
    )
    triage_step_seconds: int = Field(
        default=15, ge=1, le=600, description="Sampling step of the signals triage reads (Prometheus' usual 15 s)."
    )
    triage_watch_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an early report is watched (re-read each step) before triage concludes; 0: never.",
    )
    clarify_timeout_seconds: float = Field(
        default=1800.0, gt=0, description="How long a question to the reporter waits for an answer before escalating."
    )
    lease_seconds: float = Field(default=30.0, gt=0, description="How long a replica holds a case it works on.")
    case_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads that work cases in one process (their own pool: requests never wait behind them).",
    )
    granted_scopes: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Narrow a pack\'s service account, JSON: {"deployments": ["deployments:read"]}.',
    )

    # Governance (issue 5)
    policy_dir: Path | None = Field(
        default=None,
        description="Directory of .cedar policies (and optionally a .cedarschema); replaces the built-in set.",
    )
    freeze_calendars: str = Field(
        default="", description="Comma-separated ICS files or URLs whose events are freeze windows."
    )
    chaos_calendars: str = Field(
        default="", description="Comma-separated ICS files or URLs whose events are chaos days (CATEGORIES: services)."
    )
    freeze_windows: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Inline freezes, JSON: [{"name": "Month end", "start": ISO, "end": ISO, "services": ["x"]}].',
    )
    chaos_schedule: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Scheduled chaos days, JSON: [{"service": "search", "cron": "0 9 * * 5", "minutes": 480}].',
    )
    calendar_refresh_seconds: int = Field(default=300, ge=10, description="How often calendars are re-read.")
    kill_switch: bool = Field(default=False, description="Stop all autonomous execution (also /actiondesk kill).")
    production_approvers: str = Field(default="sre", description="Group that approves production changes.")
    freeze_approvers: str = Field(default="cab", description="Group that approves changes during a freeze.")
    break_glass_group: str = Field(default="sre", description="Group whose members may approve in an emergency.")
    break_glass_minutes: int = Field(
        default=30, ge=1, description="How long a break-glass approval lets its action start."
    )
    approval_escalate_after_seconds: int | None = Field(
        default=None, ge=1, description="When an open approval is escalated; default half its time to live."
    )
    approval_escalation_group: str = Field(
        default="", description="Group named when an approval is escalated; empty: the approver group again."
    )
    confidence_threshold: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Level 3 runs alone only when the diagnosis is at least this confident; else it asks.",
    )
    confidence_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Per-target thresholds, JSON, keys as for autonomy: {"payment-gateway": 0.95, "tier:3": 0.8}.',
    )
    breaker_max_repeats: int = Field(default=3, ge=1, description="Circuit breaker: X same actions on a target.")
    breaker_window_minutes: float = Field(default=10.0, gt=0, description="Circuit breaker: in Y minutes.")
    breaker_cooldown_minutes: float = Field(
        default=60.0, gt=0, description="How long a tripped breaker freezes automation for its target."
    )
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "ACTIONDESK_SLACK_BOT_TOKEN"),
        description="Slack bot token (xoxb-...); Slack is on when this and the signing secret are set.",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "ACTIONDESK_SLACK_SIGNING_SECRET"),
        description="Slack signing secret: every request to /slack/events must carry its HMAC.",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "ACTIONDESK_SLACK_APP_TOKEN"),
        description="Slack app-level token (xapp-...); when set, Slack talks to ActionDesk over Socket Mode.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Base URL of the Slack Web API (tests point it elsewhere)."
    )

    microsoft_app_id: str = Field(
        default="",
        validation_alias=AliasChoices("MICROSOFT_APP_ID", "ACTIONDESK_MICROSOFT_APP_ID"),
        description="The Teams bot's Microsoft App ID; empty: /api/messages runs in local development mode only.",
    )
    microsoft_app_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MICROSOFT_APP_PASSWORD", "ACTIONDESK_MICROSOFT_APP_PASSWORD"),
        description="The Teams bot's client secret, for the tokens it sends with replies.",
    )
    microsoft_app_type: Literal["MultiTenant", "SingleTenant"] = Field(
        default="MultiTenant",
        validation_alias=AliasChoices("MICROSOFT_APP_TYPE", "ACTIONDESK_MICROSOFT_APP_TYPE"),
        description="MultiTenant or SingleTenant (then MICROSOFT_APP_TENANT_ID is required).",
    )
    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MICROSOFT_APP_TENANT_ID", "ACTIONDESK_MICROSOFT_APP_TENANT_ID"),
        description="The bot's Entra tenant, for SingleTenant bots.",
    )
    teams_openid_metadata_url: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        description="OpenID metadata whose keys sign the Bot Framework's tokens (https; http only for loopback).",
    )
    teams_oauth_url: str = Field(
        default="",
        description="Token endpoint the bot gets its outbound tokens from; empty: Microsoft's for the app type.",
    )

    # The action space (issue 6): the systems the built-in packs reach, and each pack's service-account secret.
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

    # Request fulfilment (issue 17): the role catalog and the systems the Identity, Hardware and Access agents call.
    roles_file: Path | None = Field(
        default=None, description="YAML role catalog (groups, hardware bundle, licences, privileged groups per role)."
    )
    scim_url: str | None = Field(
        default=None, description="SCIM 2.0 base URL of the identity provider (where /Users is); empty: the sandbox's."
    )
    scim_token: SecretStr | None = Field(default=None, description="Bearer token of the SCIM service account.")
    ldap_url: str | None = Field(
        default=None, description="LDAP / Active Directory URL (ldap:// or ldaps://); empty: the sandbox's directory."
    )
    ldap_bind_dn: str | None = Field(default=None, description="DN of the LDAP service account.")
    ldap_password: SecretStr | None = Field(default=None, description="Password of the LDAP service account.")
    ldap_groups_base: str | None = Field(
        default=None, description="DN the role groups live under (cn=NAME,<base>), e.g. ou=groups,dc=example,dc=org."
    )
    ldap_user_dn: str | None = Field(
        default=None,
        description="Template of a person's DN with {user}; empty: uid={user},ou=people,<the groups base's parent>.",
    )
    procurement_url: str | None = Field(
        default=None, description="Base URL of the procurement API (used when ServiceNow is not configured)."
    )
    procurement_token: SecretStr | None = Field(default=None, description="Bearer token of the procurement API.")
    servicenow_return_item: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_RETURN_ITEM", "ACTIONDESK_SERVICENOW_RETURN_ITEM"),
        description="sys_id of the catalog item that opens a hardware return (offboarding through ServiceNow).",
    )

    # Ticket mirroring (issue 8): each system is on when its base URL is set; none, one or both.
    servicenow_instance_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_INSTANCE_URL", "ACTIONDESK_SERVICENOW_INSTANCE_URL"),
        description="https://INSTANCE.service-now.com; mirrors every case into an incident.",
    )
    servicenow_username: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_USERNAME", "ACTIONDESK_SERVICENOW_USERNAME"),
        description="ServiceNow user (basic auth).",
    )
    servicenow_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_PASSWORD", "ACTIONDESK_SERVICENOW_PASSWORD"),
        description="That user's password.",
    )
    servicenow_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_CLIENT_ID", "ACTIONDESK_SERVICENOW_CLIENT_ID"),
        description="OAuth client id (client credentials grant).",
    )
    servicenow_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_CLIENT_SECRET", "ACTIONDESK_SERVICENOW_CLIENT_SECRET"),
        description="OAuth client secret.",
    )
    servicenow_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_API_KEY", "ACTIONDESK_SERVICENOW_API_KEY"),
        description="ServiceNow API key (x-sn-apikey header).",
    )
    servicenow_assignment_group: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SERVICENOW_ASSIGNMENT_GROUP", "ACTIONDESK_SERVICENOW_ASSIGNMENT_GROUP"),
        description="sys_id of the group incidents and escalations are assigned to.",
    )
    servicenow_close_code: str = Field(
        default="Solution provided",
        validation_alias=AliasChoices("SERVICENOW_CLOSE_CODE", "ACTIONDESK_SERVICENOW_CLOSE_CODE"),
        description="close_code of incidents ActionDesk resolves.",
    )
    jsm_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JSM_BASE_URL", "ACTIONDESK_JSM_BASE_URL"),
        description="https://SITE.atlassian.net; mirrors every case into a JSM customer request.",
    )
    jsm_email: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JSM_EMAIL", "ACTIONDESK_JSM_EMAIL"),
        description="Atlassian account email.",
    )
    jsm_api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("JSM_API_TOKEN", "ACTIONDESK_JSM_API_TOKEN"),
        description="That account's API token.",
    )
    jsm_service_desk_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JSM_SERVICE_DESK_ID", "ACTIONDESK_JSM_SERVICE_DESK_ID"),
        description="Service desk requests are raised in.",
    )
    jsm_request_type_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JSM_REQUEST_TYPE_ID", "ACTIONDESK_JSM_REQUEST_TYPE_ID"),
        description="Request type of the requests.",
    )
    jsm_resolve_transition: str = Field(
        default="Resolve",
        validation_alias=AliasChoices("JSM_RESOLVE_TRANSITION", "ACTIONDESK_JSM_RESOLVE_TRANSITION"),
        description="Name of the workflow transition that resolves a request (looked up by name).",
    )
    # Owners, paging and notices (issue 18)
    owners_file: Path | None = Field(
        default=None,
        description="YAML owners of services, staples and request types, and each team's channels; "
        "empty: the built-in owners.",
    )
    pagerduty_routing_key: SecretStr | None = Field(
        default=None, description="PagerDuty Events API v2 integration (routing) key; pages on-call when set."
    )
    pagerduty_url: str = Field(
        default="https://events.pagerduty.com", description="PagerDuty Events API base URL (EU: events.eu...)."
    )
    opsgenie_api_key: SecretStr | None = Field(
        default=None, description="Opsgenie API integration key (GenieKey); pages on-call when set."
    )
    opsgenie_url: str = Field(
        default="https://api.opsgenie.com", description="Opsgenie API base URL (EU: https://api.eu.opsgenie.com)."
    )
    slack_notify_channel: str | None = Field(
        default=None,
        description="Slack channel id where actions that ran without approval are announced (unless the owner "
        "has its own).",
    )
    teams_notify_channel: str | None = Field(
        default=None,
        description="Teams channel id (19:...@thread.tacv2) for the same notices (unless the owner has its own).",
    )
    ticket_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often people's comments on the tickets are read back."
    )
    outbox_drain_seconds: float = Field(
        default=30.0, ge=0, description="How long `scenario run` waits for the outbox to deliver before it exits."
    )

    # LLM planning (issue 7): any OpenAI-compatible endpoint; off (runbooks only) unless configured.
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "ACTIONDESK_OPENAI_API_KEY"),
        description="Key of the OpenAI-compatible endpoint; with it the planner defaults to auto.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "ACTIONDESK_OPENAI_BASE_URL"),
        description="Endpoint base URL (Azure OpenAI, vLLM, Ollama, LiteLLM...); empty: OpenAI's.",
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model the LLM planner asks.")
    planner: Literal["runbook", "llm", "auto"] | None = Field(
        default=None,
        description="runbook, llm, or auto (runbooks first, the model for the rest); empty: auto with a key, "
        "else runbook.",
    )
    llm_max_turns: int = Field(default=10, ge=1, description="Model calls per case before it goes to a human.")
    llm_max_tokens: int | None = Field(
        default=None, ge=1, description="Prompt + completion tokens per case before it goes to a human; empty: none."
    )
    llm_max_cost: float | None = Field(
        default=None, ge=0, description="Model spend per case, in dollars, before it goes to a human; empty: none."
    )
    llm_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one request to the model.")
    llm_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Dollars per 1M tokens by model, JSON: {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}.',
    )

    # Traces (issue 19): OpenTelemetry over OTLP/HTTP, on only when an endpoint is set. The standard OTEL_ names.
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

    # Sign-in and request security (issue 13): OpenID Connect for the console and its API, sessions, tokens.
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL (Entra ID, Okta, Google, Keycloak, Dex...); empty: the loopback demo.",
    )
    oidc_client_id: str | None = Field(default=None, description="ActionDesk's client id at the issuer.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="ActionDesk's client secret at the issuer; empty: a public client (PKCE only)."
    )
    oidc_scopes: str = Field(default="openid email profile", description="Scopes asked for at sign-in.")
    oidc_email_claim: str = Field(
        default="email", description="ID-token claim holding the email the directory is searched by."
    )
    public_url: str | None = Field(
        default=None,
        description="The URL people open the console at (https; http only on loopback); the sign-in callback "
        "is PUBLIC_URL/auth/callback, writes must come from its origin, and pages and messages link to it.",
    )
    session_hours: float = Field(default=12.0, gt=0, le=720, description="How long a console session lasts.")
    step_attempts: int = Field(
        default=5, ge=1, description="Attempts at a case step that raises before the case goes to a human."
    )
    step_retry_seconds: float = Field(
        default=5.0, gt=0, description="First pause after a step raised; it doubles per attempt, at most 10 min."
    )

    @property
    def planning(self) -> str:
        """The planner in effect: ACTIONDESK_PLANNER, else auto when a key is configured, else runbook."""
        if self.planner is not None:
            return self.planner
        return "auto" if self.openai_api_key is not None else "runbook"

    @field_validator("confidence_thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = {key: v for key, v in value.items() if not 0.0 <= v <= 1.0}
        if wrong:
            raise ValueError(f"a confidence threshold is a number from 0 to 1: {wrong}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value
