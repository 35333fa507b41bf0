"""The Identity agent's actions: accounts in the identity provider (SCIM 2.0), created, disabled, enabled.

An account is created with the work email (the mailbox the provider provisions), the role's licences as
entitlements, and active from the start date. Its externalId is the hire's key (user and start date), so a
retry or a second request for the same hire finds the account instead of making another. The account's id is
the confirmation written to the master ticket.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import UserName
from actiondesk.actions.packs.retrying import with_retries
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.fulfilment import NewAccount, UserAccount
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Accounts

PersonName = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f<>{}]+$")


def hire_key(user: str, start: date) -> str:
    return f"{user}-{start:%Y%m%d}"


class UserInput(ActionInput):
    user: UserName


class NewAccountInput(ActionInput):
    user: UserName
    given_name: str = PersonName
    family_name: str = PersonName
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", max_length=254, description="The work email.")
    start_date: date = Field(description="The first working day; the account is active from then.")
    manager: UserName
    title: str | None = Field(default=None, max_length=100, description="The job title of the role.")
    licences: tuple[str, ...] = Field(default=(), description="Licences of the role, granted as entitlements.")


class AccountOutput(ActionOutput):
    account: UserAccount
    confirmation: str = Field(description="The identity provider's id of the account.")
    already: bool = Field(default=False, description="The account existed before this call; nothing was created.")

    def summary(self) -> str:
        state = "active" if self.account.active else "inactive"
        how = "already existed" if self.already else "done"
        return f"{self.account.user_name}'s account {self.confirmation} is {state} ({how})"


class _OnPerson:
    target_kind = "person"
    pack = "accounts"
    input_model: type[ActionInput]
    output_model = AccountOutput

    def target(self, params: ActionInput) -> str:
        return str(getattr(params, "user", ""))


def _find(ctx: ActionContext, user: str) -> UserAccount | None:
    accounts = need(ctx.accounts, "the identity provider (ACTIONDESK_SCIM_URL)")
    return with_retries(ctx, "identity provider", lambda: accounts.find_account(user_name=user))


def _ids(ctx: ActionContext) -> Accounts:
    return need(ctx.accounts, "the identity provider (ACTIONDESK_SCIM_URL)")


class GetUserAccount(_OnPerson, ActionSpec[UserInput, AccountOutput]):
    name = "get_user_account"
    description = "A person's account in the identity provider (SCIM): its id, whether it is active, its email."
    scope = "accounts:read"
    risk = Risk.READ
    input_model = UserInput

    def run(self, ctx: ActionContext, params: UserInput) -> AccountOutput:
        account = _find(ctx, params.user)
        if account is None:
            raise ActionFailedError(f"the identity provider has no account {params.user}")
        return AccountOutput(account=account, confirmation=account.id, already=True)


class CreateAccount(_OnPerson, ActionSpec[NewAccountInput, AccountOutput]):
    name = "create_account"
    description = (
        "Create a new hire's account (and work mailbox) in the identity provider, active from the start date, "
        "with the role's licences. Finds and reports an account already made for the same hire instead."
    )
    scope = "accounts:write"
    risk = Risk.LOW
    input_model = NewAccountInput

    def _existing(self, accounts: Accounts, p: NewAccountInput) -> UserAccount | None:
        key = hire_key(p.user, p.start_date)
        found = accounts.find_account(external_id=key)
        if found is not None:
            return found
        named = accounts.find_account(user_name=p.user)
        if named is None:
            return None
        if named.email.lower() == p.email.lower():
            return named  # the same person, provisioned by hand or by an earlier request: not created twice
        raise ActionFailedError(
            f"user name {p.user} is already taken by account {named.id} ({named.email or 'no email'}); "
            "choose another user name"
        )

    def observe(self, ctx: ActionContext, params: NewAccountInput) -> dict[str, JsonValue]:
        found = with_retries(ctx, "identity provider", lambda: self._existing(_ids(ctx), params))
        return {"account": found.id if found else None, "external_id": found.external_id if found else None}

    def already_done(self, observed: dict[str, JsonValue], params: NewAccountInput) -> bool:
        return observed.get("account") is not None

    def snapshot(self, ctx: ActionContext, params: NewAccountInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: NewAccountInput) -> ActionCall | None:
        if snapshot.get("account") is not None and snapshot.get("external_id") != hire_key(
            params.user, params.start_date
        ):
            return None  # the account was there before this hire: undoing the request leaves it alone
        return ActionCall(action="disable_account", params={"user": params.user})

    def run(self, ctx: ActionContext, params: NewAccountInput) -> AccountOutput:
        accounts = _ids(ctx)
        today = ctx.clock.now().date()

        def attempt() -> AccountOutput:
            found = self._existing(accounts, params)  # a lost answer to an earlier attempt left it there
            if found is not None:
                return AccountOutput(account=found, confirmation=found.id, already=True)
            created = accounts.create_account(
                NewAccount(
                    user_name=params.user,
                    external_id=hire_key(params.user, params.start_date),
                    given_name=params.given_name,
                    family_name=params.family_name,
                    email=params.email,
                    active=params.start_date <= today,
                    manager=params.manager,
                    title=params.title,
                    entitlements=params.licences,
                )
            )
            return AccountOutput(account=created, confirmation=created.id)

        return with_retries(ctx, "identity provider", attempt)

    def verify(self, ctx: ActionContext, params: NewAccountInput, output: AccountOutput) -> str | None:
        read = with_retries(ctx, "identity provider", lambda: _ids(ctx).get_account(output.account.id))
        if read.user_name.lower() != params.user.lower():
            return f"account {read.id} reads back as {read.user_name}, not {params.user}"
        if read.email.lower() != params.email.lower() and not output.already:
            return f"account {read.id} reads back with email {read.email or '(none)'}, not {params.email}"
        return None


class _SetActive(_OnPerson, ActionSpec[UserInput, AccountOutput]):
    scope = "accounts:write"
    input_model = UserInput
    active: bool
    undo: str

    def observe(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        account = _find(ctx, params.user)
        return {"account": account.id if account else None, "active": account.active if account else None}

    def drift(self, observed: dict[str, JsonValue], params: UserInput) -> str | None:
        return None if observed.get("account") else f"the identity provider has no account {params.user}"

    def already_done(self, observed: dict[str, JsonValue], params: UserInput) -> bool:
        return observed.get("active") is self.active

    def snapshot(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: UserInput) -> ActionCall | None:
        if snapshot.get("active") is None or snapshot.get("active") is self.active:
            return None  # it was already so: nothing to put back
        return ActionCall(action=self.undo, params={"user": params.user})

    def run(self, ctx: ActionContext, params: UserInput) -> AccountOutput:
        accounts = _ids(ctx)
        account = _find(ctx, params.user)
        if account is None:
            raise ActionFailedError(f"the identity provider has no account {params.user}")
        if account.active is self.active:
            return AccountOutput(account=account, confirmation=account.id, already=True)
        changed = with_retries(ctx, "identity provider", lambda: accounts.set_active(account.id, self.active))
        return AccountOutput(account=changed, confirmation=changed.id)

    def verify(self, ctx: ActionContext, params: UserInput, output: AccountOutput) -> str | None:
        read = with_retries(ctx, "identity provider", lambda: _ids(ctx).get_account(output.account.id))
        if read.active is not self.active:
            return f"account {read.id} reads back {'active' if read.active else 'inactive'}"
        return None


class DisableAccount(_SetActive):
    name = "disable_account"
    description = "Disable a person's account in the identity provider (offboarding; the undo of create_account)."
    risk = Risk.MEDIUM
    destructive = True  # the person can no longer sign in
    active = False
    undo = "enable_account"


class EnableAccount(_SetActive):
    name = "enable_account"
    description = "Enable a person's account in the identity provider (a new hire's start date)."
    risk = Risk.LOW
    active = True
    undo = "disable_account"


ACCOUNTS = Pack(
    name="accounts",
    scopes=frozenset({"accounts:read", "accounts:write"}),
    actions=(GetUserAccount(), CreateAccount(), DisableAccount(), EnableAccount()),
    service_account="actiondesk-scim",
    description="Accounts in the identity provider (SCIM 2.0): the Identity agent.",
)
