"""SCIM 2.0 (RFC 7643/7644) over httpx: the identity provider behind the Accounts port."""

from actiondesk.adapters.scim.client import ScimAccounts

__all__ = ["ScimAccounts"]
