"""The environment variable names ActionDesk reads, for checking what the deployment files set."""

from __future__ import annotations

from actiondesk.core.settings import Settings

# The console's OpenID Connect sign-in settings: the deployment files pass them already; Settings gains them
# with the sign-in itself (until then pydantic-settings ignores them).
SIGN_IN = frozenset(
    {"ACTIONDESK_OIDC_ISSUER", "ACTIONDESK_OIDC_CLIENT_ID", "ACTIONDESK_OIDC_CLIENT_SECRET", "ACTIONDESK_PUBLIC_URL"}
)


def setting_names() -> frozenset[str]:
    names = set(SIGN_IN)
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        names.add(str(choices[0]) if choices else f"ACTIONDESK_{name.upper()}")
    return frozenset(names)
