"""The Access agent's actions: membership of directory groups (LDAP, Active Directory), added and removed,
each read back. Adding someone to a privileged group is governed by that group's owner group (the role
catalog says which groups are privileged); the group's DN is the confirmation written to the master ticket."""

from __future__ import annotations

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import UserName
from actiondesk.actions.packs.retrying import with_retries
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import AccessGroups

GroupName = Field(
    min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$", description="A directory group's name (cn)."
)


def _groups(ctx: ActionContext) -> AccessGroups:
    return need(ctx.groups, "the directory (ACTIONDESK_LDAP_URL)")


def _is_member(ctx: ActionContext, group: str, user: str) -> bool:
    return user.lower() in with_retries(ctx, "directory", lambda: _groups(ctx).group_members(group))


class GroupInput(ActionInput):
    group: str = GroupName


class MembershipInput(ActionInput):
    user: UserName
    group: str = GroupName


class MembersOutput(ActionOutput):
    group: str
    members: tuple[str, ...]

    def summary(self) -> str:
        return f"{self.group} has {len(self.members)} members"


class MembershipOutput(ActionOutput):
    user: str
    group: str
    member: bool
    confirmation: str = Field(description="The group's DN.")
    already: bool = False

    def summary(self) -> str:
        state = "a member of" if self.member else "not in"
        return f"{self.user} is {state} {self.group}" + (" (already)" if self.already else "")


class GetGroupMembers(ActionSpec[GroupInput, MembersOutput]):
    name = "get_group_members"
    description = "The members of a directory group."
    pack = "groups"
    scope = "groups:read"
    risk = Risk.READ
    target_kind = "group"
    input_model = GroupInput
    output_model = MembersOutput

    def target(self, params: GroupInput) -> str:
        return params.group

    def run(self, ctx: ActionContext, params: GroupInput) -> MembersOutput:
        members = with_retries(ctx, "directory", lambda: _groups(ctx).group_members(params.group))
        return MembersOutput(group=params.group, members=tuple(sorted(members)))


class UserInput(ActionInput):
    user: UserName


class UserGroupsOutput(ActionOutput):
    user: str
    groups: tuple[str, ...]

    def summary(self) -> str:
        return f"{self.user} is in {len(self.groups)} groups: {', '.join(self.groups) or 'none'}"


class GetUserGroups(ActionSpec[UserInput, UserGroupsOutput]):
    name = "get_user_groups"
    description = "The directory groups a person is a member of."
    pack = "groups"
    scope = "groups:read"
    risk = Risk.READ
    target_kind = "person"
    input_model = UserInput
    output_model = UserGroupsOutput

    def target(self, params: UserInput) -> str:
        return params.user

    def run(self, ctx: ActionContext, params: UserInput) -> UserGroupsOutput:
        groups = with_retries(ctx, "directory", lambda: _groups(ctx).groups_of(params.user))
        return UserGroupsOutput(user=params.user, groups=tuple(groups))


class _Membership(ActionSpec[MembershipInput, MembershipOutput]):
    pack = "groups"
    scope = "groups:write"
    risk = Risk.LOW
    target_kind = "person"
    input_model = MembershipInput
    output_model = MembershipOutput
    member: bool
    undo: str

    def target(self, params: MembershipInput) -> str:
        return params.user

    def observe(self, ctx: ActionContext, params: MembershipInput) -> dict[str, JsonValue]:
        return {"group": params.group, "member": _is_member(ctx, params.group, params.user)}

    def already_done(self, observed: dict[str, JsonValue], params: MembershipInput) -> bool:
        return observed.get("member") is self.member

    def snapshot(self, ctx: ActionContext, params: MembershipInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: MembershipInput) -> ActionCall | None:
        if snapshot.get("member") is self.member:
            return None  # it was already so before this call: undoing it must not change it
        return ActionCall(action=self.undo, params={"user": params.user, "group": params.group})

    def run(self, ctx: ActionContext, params: MembershipInput) -> MembershipOutput:
        groups = _groups(ctx)
        ref = with_retries(ctx, "directory", lambda: groups.group_ref(params.group))
        if _is_member(ctx, params.group, params.user) is self.member:
            return MembershipOutput(
                user=params.user, group=params.group, member=self.member, confirmation=ref, already=True
            )
        change = groups.add_member if self.member else groups.remove_member
        with_retries(ctx, "directory", lambda: change(params.group, params.user))
        return MembershipOutput(user=params.user, group=params.group, member=self.member, confirmation=ref)

    def verify(self, ctx: ActionContext, params: MembershipInput, output: MembershipOutput) -> str | None:
        if _is_member(ctx, params.group, params.user) is self.member:
            return None
        return f"{params.user} reads back {'not in' if self.member else 'still in'} {params.group}"


class AddToGroup(_Membership):
    name = "add_to_group"
    description = "Add a person to a directory group of their role (a privileged group needs its owner's approval)."
    member = True
    undo = "remove_from_group"

    def access_group(self, params: MembershipInput) -> str | None:
        return params.group


class RemoveFromGroup(_Membership):
    name = "remove_from_group"
    description = "Remove a person from a directory group (offboarding; the undo of add_to_group)."
    member = False
    undo = "add_to_group"


GROUPS = Pack(
    name="groups",
    scopes=frozenset({"groups:read", "groups:write"}),
    actions=(GetGroupMembers(), GetUserGroups(), AddToGroup(), RemoveFromGroup()),
    service_account="actiondesk-ldap",
    description="Membership of directory groups (LDAP / Active Directory): the Access agent.",
)
