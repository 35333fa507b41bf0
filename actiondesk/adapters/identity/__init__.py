"""Identity: accounts, locks and password resets behind the Identity port."""

from actiondesk.adapters.identity.accounts import AccountBook

__all__ = ["AccountBook"]
