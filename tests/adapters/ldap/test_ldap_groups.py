"""LdapGroups against a real OpenLDAP (slapd) started once per session: membership added, read back, removed;
every failure mode leaves as one of ours."""

from __future__ import annotations

import pytest
from livesystems import LiveLdap, free_port

from actiondesk.adapters.ldap import LdapGroups, default_user_template
from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError


@pytest.fixture
def groups(live_ldap: LiveLdap) -> LdapGroups:
    base, template = live_ldap.tree({"analytics": ("bob",), "prod-db-admins": ("bob",)})
    return LdapGroups(live_ldap.url, live_ldap.admin_dn, live_ldap.password, base, user_template=template)


def test_add_read_back_and_remove_a_member(groups: LdapGroups, live_ldap: LiveLdap):
    assert groups.group_members("analytics") == {"bob"}
    groups.add_member("analytics", "jdoe")
    assert groups.group_members("analytics") == {"bob", "jdoe"}
    assert groups.groups_of("jdoe") == ["analytics"]
    assert "uid=jdoe" in live_ldap.ldapsearch(groups.group_ref("analytics"), "(objectClass=*)", "member")
    groups.remove_member("analytics", "jdoe")
    assert groups.group_members("analytics") == {"bob"}
    assert groups.groups_of("jdoe") == []


def test_adding_twice_and_removing_a_non_member_change_nothing(groups: LdapGroups):
    groups.add_member("analytics", "jdoe")
    groups.add_member("analytics", "jdoe")
    assert groups.group_members("analytics") == {"bob", "jdoe"}
    groups.remove_member("prod-db-admins", "jdoe")
    assert groups.group_members("prod-db-admins") == {"bob"}


def test_an_unknown_group_is_not_found(groups: LdapGroups):
    with pytest.raises(NotFoundError, match="no-such"):
        groups.group_members("no-such")
    with pytest.raises(NotFoundError):
        groups.add_member("no-such", "jdoe")


def test_the_last_member_of_a_group_of_names_cannot_be_removed(groups: LdapGroups):
    with pytest.raises(ActionFailedError, match="at least one member"):
        groups.remove_member("prod-db-admins", "bob")


def test_a_wrong_password_is_refused_clearly(live_ldap: LiveLdap, groups: LdapGroups):
    wrong = LdapGroups(live_ldap.url, live_ldap.admin_dn, "not-the-password", groups.group_ref("x").split(",", 1)[1])
    with pytest.raises(ActionFailedError, match="refused the service account's bind") as caught:
        wrong.group_members("analytics")
    assert "not-the-password" not in str(caught.value)


def test_an_unreachable_directory_is_unavailable():
    nowhere = LdapGroups(f"ldap://127.0.0.1:{free_port()}", "cn=x", "y", "ou=groups,dc=example,dc=org", timeout=2)
    with pytest.raises(SystemUnavailableError, match="unreachable"):
        nowhere.group_members("analytics")


def test_user_dns_are_escaped_and_default_next_to_the_groups():
    assert default_user_template("ou=groups,dc=example,dc=org") == "uid={user},ou=people,dc=example,dc=org"
    groups = LdapGroups("ldap://127.0.0.1:1", "cn=x", "y", "ou=groups,dc=example,dc=org")
    assert groups.user_dn("a,b") == r"uid=a\,b,ou=people,dc=example,dc=org"
    with pytest.raises(ValueError, match="placeholder"):
        LdapGroups("ldap://127.0.0.1:1", "cn=x", "y", "ou=g,dc=e", user_template="uid=x,dc=e")
