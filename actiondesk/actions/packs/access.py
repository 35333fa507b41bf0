"""Access staples: reset a locked VPN session, reset a password through the identity provider."""

from __future__ import annotations

from pydantic import JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import UserName
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.systems import Account


class UserInput(ActionInput):
    user: UserName


class SessionOutput(ActionOutput):
    user: str
    status: str

    def summary(self) -> str:
        return f"{self.user}'s VPN session is {self.status}"


class _OnUser:
    target_kind = "person"

    def target(self, params: UserInput) -> str:
        return params.user


class GetVpnSession(_OnUser, ActionSpec[UserInput, SessionOutput]):
    name = "get_vpn_session"
    description = "Whether a person's VPN session is active or locked."
    pack = "vpn"
    scope = "vpn:read"
    risk = Risk.READ
    input_model = UserInput
    output_model = SessionOutput

    def run(self, ctx: ActionContext, params: UserInput) -> SessionOutput:
        return SessionOutput(user=params.user, status=need(ctx.vpn, "VPN").vpn_session(params.user))


class _SessionChange(_OnUser, ActionSpec[UserInput, SessionOutput]):
    pack = "vpn"
    scope = "vpn:write"
    risk = Risk.LOW
    input_model = UserInput
    output_model = SessionOutput
    before: str  # the status the change expects
    after: str
    undo: str

    def observe(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        return {"user": params.user, "status": need(ctx.vpn, "VPN").vpn_session(params.user)}

    def drift(self, observed: dict[str, JsonValue], params: UserInput) -> str | None:
        status = observed.get("status")
        if status != self.before:
            return f"{params.user}'s VPN session is {status} now, not {self.before}; nothing to do"
        return None

    def already_done(self, observed: dict[str, JsonValue], params: UserInput) -> bool:
        return observed.get("status") == self.after

    def snapshot(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: UserInput) -> ActionCall | None:
        return ActionCall(action=self.undo, params={"user": params.user}) if snapshot.get("status") else None

    def verify(self, ctx: ActionContext, params: UserInput, output: SessionOutput) -> str | None:
        status = need(ctx.vpn, "VPN").vpn_session(params.user)
        return None if status == self.after else f"{params.user}'s VPN session is {status}, not {self.after}"


class ResetVpnSession(_SessionChange):
    name = "reset_vpn_session"
    description = "Reset a person's locked VPN session so they can sign in again (only when it is locked)."
    destructive = True  # the locked session is thrown away
    before, after, undo = "locked", "active", "lock_vpn_session"

    def run(self, ctx: ActionContext, params: UserInput) -> SessionOutput:
        return SessionOutput(user=params.user, status=need(ctx.vpn, "VPN").unlock_vpn_session(params.user))


class LockVpnSession(_SessionChange):
    name = "lock_vpn_session"
    description = "Lock a person's VPN session (the undo of reset_vpn_session)."
    before, after, undo = "active", "locked", "reset_vpn_session"

    def run(self, ctx: ActionContext, params: UserInput) -> SessionOutput:
        return SessionOutput(user=params.user, status=need(ctx.vpn, "VPN").lock_vpn_session(params.user))


class AccountOutput(ActionOutput):
    account: Account

    def summary(self) -> str:
        a = self.account
        state = "locked" if a.locked else "unlocked"
        reset = "; a password reset link is pending" if a.pending_reset else ""
        return f"{a.user}'s account is {state}{reset}"


class GetAccount(_OnUser, ActionSpec[UserInput, AccountOutput]):
    name = "get_account"
    description = "A person's account in the identity provider: locked or not, reset pending or not."
    pack = "identity"
    scope = "identity:read"
    risk = Risk.READ
    input_model = UserInput
    output_model = AccountOutput

    def run(self, ctx: ActionContext, params: UserInput) -> AccountOutput:
        return AccountOutput(account=need(ctx.identity, "identity").account(params.user))


class ResetPassword(_OnUser, ActionSpec[UserInput, AccountOutput]):
    name = "reset_password"
    description = (
        "Send a person a one-time password reset link (to their own email) and unlock the account. "
        "No password is ever shown."
    )
    pack = "identity"
    scope = "identity:write"
    risk = Risk.MEDIUM
    destructive = True  # the current password stops working once the link is used
    input_model = UserInput
    output_model = AccountOutput

    def observe(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        account = need(ctx.identity, "identity").account(params.user)
        return {"user": params.user, "locked": account.locked, "pending_reset": account.pending_reset}

    def drift(self, observed: dict[str, JsonValue], params: UserInput) -> str | None:
        if observed.get("pending_reset"):
            return f"{params.user} already has a password reset pending; not sending another"
        return None

    def snapshot(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: UserInput) -> ActionCall | None:
        return ActionCall(action="cancel_password_reset", params={"user": params.user})

    def run(self, ctx: ActionContext, params: UserInput) -> AccountOutput:
        return AccountOutput(account=need(ctx.identity, "identity").reset_password(params.user))

    def verify(self, ctx: ActionContext, params: UserInput, output: AccountOutput) -> str | None:
        account = need(ctx.identity, "identity").account(params.user)
        return None if account.pending_reset and not account.locked else f"{params.user} has no usable reset"


class CancelPasswordReset(_OnUser, ActionSpec[UserInput, AccountOutput]):
    name = "cancel_password_reset"
    description = "Cancel a pending password reset: the previous password works again (undo of reset_password)."
    pack = "identity"
    scope = "identity:write"
    risk = Risk.MEDIUM
    input_model = UserInput
    output_model = AccountOutput

    def observe(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        account = need(ctx.identity, "identity").account(params.user)
        return {"user": params.user, "pending_reset": account.pending_reset}

    def drift(self, observed: dict[str, JsonValue], params: UserInput) -> str | None:
        return None if observed.get("pending_reset") else f"{params.user} has no pending reset to cancel"

    def snapshot(self, ctx: ActionContext, params: UserInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: UserInput) -> ActionCall | None:
        return ActionCall(action="reset_password", params={"user": params.user})

    def run(self, ctx: ActionContext, params: UserInput) -> AccountOutput:
        identity = need(ctx.identity, "identity")
        ticket = identity.account(params.user).pending_reset
        if ticket is None:
            return AccountOutput(account=identity.account(params.user))
        return AccountOutput(account=identity.cancel_reset(params.user, ticket))

    def verify(self, ctx: ActionContext, params: UserInput, output: AccountOutput) -> str | None:
        pending = need(ctx.identity, "identity").account(params.user).pending_reset
        return None if pending is None else f"{params.user}'s reset is still pending"


VPN = Pack(
    name="vpn",
    scopes=frozenset({"vpn:read", "vpn:write"}),
    actions=(GetVpnSession(), ResetVpnSession(), LockVpnSession()),
    service_account="actiondesk-vpn",
    description="Sessions on the corporate VPN.",
)
IDENTITY = Pack(
    name="identity",
    scopes=frozenset({"identity:read", "identity:write"}),
    actions=(GetAccount(), ResetPassword(), CancelPasswordReset()),
    service_account="actiondesk-identity",
    description="Accounts in the identity provider.",
)
