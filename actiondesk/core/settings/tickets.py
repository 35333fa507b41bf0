"""Ticket mirroring (issue 8): each system is on when its base URL is set; none, one or both."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field, SecretStr


class TicketSection(BaseModel):
    """ServiceNow and Jira Service Management."""

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
