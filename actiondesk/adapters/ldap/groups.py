"""LdapGroups: membership of groups in an LDAP directory (OpenLDAP, Active Directory) with ldap3.

A group is the entry ``cn=NAME,<groups base>`` and its members are the DNs in its ``member`` attribute
(groupOfNames in OpenLDAP, group in Active Directory). A person's DN comes from a template such as
``uid={user},ou=people,dc=example,dc=org``. Each call binds afresh with the service account (a simple bind),
so a dropped connection or a restarted server never leaves a stale session behind.

What leaves: plain values, or SystemUnavailableError (unreachable, busy, unavailable, timeouts), NotFoundError
(no such group), ActionFailedError (a refused bind or change, with the server's result). No ldap3 error
crosses out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ldap3 import BASE, LEVEL, MODIFY_ADD, MODIFY_DELETE, Connection, Server
from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPSocketReceiveError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError

log = logging.getLogger(__name__)

# LDAP result codes (RFC 4511 §4.1.9) the adapter tells apart.
NO_SUCH_ATTRIBUTE = 16
ALREADY_EXISTS = 20  # attributeOrValueExists
NO_SUCH_OBJECT = 32
INVALID_CREDENTIALS = 49
BUSY = 51
UNAVAILABLE = 52
OBJECT_CLASS_VIOLATION = 65

T = TypeVar("T")


def default_user_template(groups_base: str) -> str:
    """``uid={user},ou=people,<the groups base's parent>``: where people live next to the groups."""
    parts = groups_base.split(",", 1)
    parent = parts[1] if len(parts) == 2 else groups_base
    return "uid={user},ou=people," + parent


class LdapGroups:
    """The AccessGroups port over LDAP."""

    def __init__(
        self,
        url: str,
        bind_dn: str,
        password: str,
        groups_base: str,
        *,
        user_template: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._server = Server(url, connect_timeout=max(1, int(timeout)))
        self._bind_dn = bind_dn
        self._password = password
        self._base = groups_base
        self._template = user_template or default_user_template(groups_base)
        self._timeout = timeout
        if "{user}" not in self._template:
            raise ValueError("the user DN template needs a {user} placeholder")

    def user_dn(self, user: str) -> str:
        return self._template.replace("{user}", escape_rdn(user))

    def group_ref(self, group: str) -> str:
        return f"cn={escape_rdn(group)},{self._base}"

    def _user_of(self, dn: str) -> str | None:
        """The user name a member DN stands for, when it has the template's shape."""
        try:
            rdns = parse_dn(dn)
            shape = parse_dn(self._template.replace("{user}", "x"))
        except LDAPException:
            return None
        if len(rdns) != len(shape) or rdns[0][0].lower() != shape[0][0].lower():
            return None
        if [(a.lower(), v.lower()) for a, v, _ in rdns[1:]] != [(a.lower(), v.lower()) for a, v, _ in shape[1:]]:
            return None
        return str(rdns[0][1]).lower()

    def _session(self, work: Callable[[Connection], T]) -> T:
        connection = Connection(
            self._server,
            user=self._bind_dn,
            password=self._password,
            receive_timeout=max(1, int(self._timeout)),
            raise_exceptions=False,
        )
        try:
            if not connection.bind():
                code = connection.result.get("result")
                if code in (BUSY, UNAVAILABLE):
                    raise SystemUnavailableError(
                        f"the directory is unavailable ({connection.result.get('description')})"
                    )
                if code == INVALID_CREDENTIALS:
                    raise ActionFailedError(
                        "the directory refused the service account's bind: check its DN and password"
                    )
                raise SystemUnavailableError(
                    f"the directory did not take the bind: {connection.result.get('description')}"
                )
            return work(connection)
        except (LDAPSocketOpenError, LDAPSocketReceiveError) as exc:
            raise SystemUnavailableError(f"the directory is unreachable: {type(exc).__name__}") from None
        except LDAPException as exc:
            raise ActionFailedError(f"the directory failed: {type(exc).__name__}: {exc}") from None
        finally:
            connection.unbind()

    @staticmethod
    def _check(connection: Connection, what: str, allowed: tuple[int, ...] = ()) -> int:
        result: dict[str, Any] = connection.result or {}
        code = int(result.get("result", 0))
        if code == 0 or code in allowed:
            return code
        message = f"{what}: {result.get('description')} {result.get('message') or ''}".strip()
        if code == NO_SUCH_OBJECT:
            raise NotFoundError(message)
        if code in (BUSY, UNAVAILABLE):
            raise SystemUnavailableError(message)
        if code == OBJECT_CLASS_VIOLATION:
            raise ActionFailedError(f"{message} (a groupOfNames keeps at least one member)")
        raise ActionFailedError(message)

    def group_members(self, group: str) -> frozenset[str]:
        dn = self.group_ref(group)

        def read(connection: Connection) -> frozenset[str]:
            connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=["member"])
            self._check(connection, f"no group {group!r} at {dn}")
            if not connection.response:
                raise NotFoundError(f"the directory has no group {group!r} ({dn})")
            values = connection.response[0].get("attributes", {}).get("member", [])
            return frozenset(u for u in (self._user_of(v) for v in values) if u)

        return self._session(read)

    def groups_of(self, user: str) -> list[str]:
        member = escape_filter_chars(self.user_dn(user))

        def read(connection: Connection) -> list[str]:
            connection.search(self._base, f"(member={member})", search_scope=LEVEL, attributes=["cn"])
            self._check(connection, f"the groups of {user}")
            names = []
            for entry in connection.response or []:
                cn = entry.get("attributes", {}).get("cn")
                if cn:
                    names.append(str(cn[0] if isinstance(cn, list) else cn))
            return sorted(names)

        return self._session(read)

    def add_member(self, group: str, user: str) -> None:
        dn, member = self.group_ref(group), self.user_dn(user)

        def add(connection: Connection) -> None:
            connection.modify(dn, {"member": [(MODIFY_ADD, [member])]})
            if self._check(connection, f"adding {user} to {group}", (ALREADY_EXISTS,)) == ALREADY_EXISTS:
                log.info("ldap: %s was already in %s", user, group)

        self._session(add)

    def remove_member(self, group: str, user: str) -> None:
        dn, member = self.group_ref(group), self.user_dn(user)

        def remove(connection: Connection) -> None:
            connection.modify(dn, {"member": [(MODIFY_DELETE, [member])]})
            if self._check(connection, f"removing {user} from {group}", (NO_SUCH_ATTRIBUTE,)) == NO_SUCH_ATTRIBUTE:
                log.info("ldap: %s was not in %s", user, group)

        self._session(remove)
