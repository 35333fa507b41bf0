"""AccountBook: the sandbox's identity provider, kept as one JSON document (StateBlobs) so it survives restarts.

A reset never produces a password here: it issues a one-time ticket the person redeems out of band (their
email), and until it is redeemed the previous credential stays on file, so cancelling the ticket undoes it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from actiondesk.core.errors import ActionFailedError, NotFoundError
from actiondesk.core.ports import StateBlobs
from actiondesk.core.systems import Account

BLOB = "identity-accounts"


class _Book(BaseModel):
    model_config = ConfigDict(frozen=True)

    accounts: dict[str, Account] = {}
    before: dict[str, Account] = {}  # ticket -> the account as it was before that reset


class AccountBook:
    def __init__(self, users: Iterable[str], blobs: StateBlobs | None = None) -> None:
        self._lock = threading.Lock()
        self._blobs = blobs
        saved = blobs.get_blob(BLOB) if blobs is not None else None
        if saved is not None:
            self._book = _Book.model_validate_json(saved)
        else:
            self._book = _Book(accounts={u: Account(user=u, locked=False, must_change_password=False) for u in users})

    def _put(self, account: Account, before: dict[str, Account] | None = None) -> Account:
        before = self._book.before if before is None else before
        self._book = _Book(accounts={**self._book.accounts, account.user: account}, before=before)
        if self._blobs is not None:
            self._blobs.put_blob(BLOB, self._book.model_dump_json())
        return account

    def account(self, user: str) -> Account:
        try:
            return self._book.accounts[user]
        except KeyError:
            raise NotFoundError(f"the identity provider has no account {user!r}") from None

    def lock(self, user: str) -> Account:
        """Too many failed sign-ins (what a scenario or test does to an account)."""
        with self._lock:
            return self._put(self.account(user).model_copy(update={"locked": True}))

    def reset_password(self, user: str) -> Account:
        with self._lock:
            account = self.account(user)
            ticket = f"rst-{secrets.token_hex(8)}"
            reset = account.model_copy(update={"locked": False, "must_change_password": True, "pending_reset": ticket})
            return self._put(reset, {**self._book.before, ticket: account})

    def cancel_reset(self, user: str, ticket: str) -> Account:
        with self._lock:
            account = self.account(user)
            if account.pending_reset != ticket:
                raise ActionFailedError(f"{user}'s reset ticket {ticket} is no longer pending (already redeemed?)")
            before = dict(self._book.before)
            return self._put(before.pop(ticket), before)
