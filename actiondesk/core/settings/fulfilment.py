"""Request fulfilment (issue 17): the role catalog and the systems the Identity, Hardware and Access agents
call."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr


class FulfilmentSection(BaseModel):
    """The role catalog and the identity, directory and procurement systems."""

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
