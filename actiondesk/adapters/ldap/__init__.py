"""LDAP / Active Directory group membership with ldap3 (pure Python): the directory behind AccessGroups."""

from actiondesk.adapters.ldap.groups import LdapGroups, default_user_template

__all__ = ["LdapGroups", "default_user_template"]
