"""ScimAccounts: Users of a SCIM 2.0 service provider (RFC 7644) over httpx, with a bearer token.

What it sends: ``POST /Users`` (core User schema plus the enterprise extension for the manager), ``GET
/Users?filter=externalId eq "…"`` to find an account again, ``GET /Users/{id}`` to read it back, and a
``PATCH`` with a PatchOp to switch ``active``. What leaves: UserAccount, or SystemUnavailableError
(unreachable, timeout, 5xx, 429 with its Retry-After), NotFoundError (404), ActionFailedError (any other
refusal, with the SCIM error's ``scimType`` and ``detail``). No httpx error crosses out.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx

from actiondesk.core.errors import ActionFailedError, NotFoundError, SystemUnavailableError
from actiondesk.core.fulfilment import NewAccount, UserAccount
from actiondesk.core.retry import retry_after_seconds

log = logging.getLogger(__name__)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MEDIA = "application/scim+json"


def _quoted(value: str) -> str:
    """A string literal of a SCIM filter (RFC 7644 §3.4.2.2: JSON string rules)."""
    return json.dumps(value)


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    kind = f" ({body['scimType']})" if body.get("scimType") else ""
    return f"{body.get('detail') or 'no detail'}{kind}"


def to_account(resource: dict[str, Any]) -> UserAccount:
    """A SCIM User resource as the Accounts port's UserAccount."""
    emails = resource.get("emails") or []
    work = next((e for e in emails if isinstance(e, dict) and e.get("type") == "work"), None)
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary")), None)
    chosen = work or primary or (emails[0] if emails and isinstance(emails[0], dict) else {})
    enterprise = resource.get(ENTERPRISE) or {}
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    entitlements = resource.get("entitlements") or []
    return UserAccount(
        id=str(resource["id"]),
        user_name=str(resource.get("userName", "")),
        external_id=resource.get("externalId"),
        display_name=str(resource.get("displayName") or ""),
        email=str(chosen.get("value") or ""),
        active=resource.get("active", True) is not False,
        manager=(manager.get("displayName") or manager.get("value")) if isinstance(manager, dict) else None,
        title=resource.get("title"),
        entitlements=tuple(str(e.get("value")) for e in entitlements if isinstance(e, dict) and e.get("value")),
    )


def user_resource(account: NewAccount, manager_id: str | None) -> dict[str, Any]:
    """The JSON of a new SCIM User: name, work email (its mailbox), active flag, title, licences, manager."""
    body: dict[str, Any] = {
        "schemas": [USER],
        "userName": account.user_name,
        "externalId": account.external_id,
        "name": {
            "givenName": account.given_name,
            "familyName": account.family_name,
            "formatted": account.display_name,
        },
        "displayName": account.display_name,
        "emails": [{"value": account.email, "type": "work", "primary": True}],
        "active": account.active,
    }
    if account.title:
        body["title"] = account.title
    if account.entitlements:
        body["entitlements"] = [{"value": e} for e in account.entitlements]
    if manager_id is not None:
        body["schemas"].append(ENTERPRISE)
        body[ENTERPRISE] = {"manager": {"value": manager_id}}
    return body


class ScimAccounts:
    """The Accounts port over a SCIM 2.0 endpoint (``base_url`` ends where ``/Users`` starts, e.g. ``…/scim/v2``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0, verify: bool = True) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            verify=verify,
            headers={"Authorization": f"Bearer {token}", "Accept": f"{MEDIA}, application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Content-Type": MEDIA} if body is not None else {}
        content = json.dumps(body).encode() if body is not None else None
        try:
            response = self._http.request(method, path, content=content, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise SystemUnavailableError(f"the identity provider is unreachable: {type(exc).__name__}") from None
        if response.is_success:
            return response
        status = response.status_code
        if status == 429 or status >= 500:
            raise SystemUnavailableError(
                f"the identity provider answered {status}: {_problem(response)}",
                retry_after_seconds(response.headers.get("Retry-After"), time.time()),
            )
        if status == 404:
            raise NotFoundError(f"the identity provider has no {path}: {_problem(response)}")
        if status in (401, 403):
            raise ActionFailedError(f"the identity provider refused the service account ({status}): check its token")
        raise ActionFailedError(f"the identity provider refused {method} {path} ({status}): {_problem(response)}")

    def _search(self, attribute: str, value: str) -> UserAccount | None:
        response = self._call("GET", "/Users", params={"filter": f"{attribute} eq {_quoted(value)}", "count": "2"})
        resources = response.json().get("Resources") or []
        matching = [r for r in resources if isinstance(r, dict) and str(r.get(attribute, "")).lower() == value.lower()]
        if len(matching) > 1:
            raise ActionFailedError(f"the identity provider has {len(matching)} users with {attribute} {value}")
        return to_account(matching[0]) if matching else None

    def find_account(self, *, external_id: str | None = None, user_name: str | None = None) -> UserAccount | None:
        if external_id is not None:
            found = self._search("externalId", external_id)
            if found is not None or user_name is None:
                return found
        if user_name is not None:
            return self._search("userName", user_name)
        raise ValueError("find_account needs an external_id or a user_name")

    def get_account(self, account_id: str) -> UserAccount:
        return to_account(self._call("GET", f"/Users/{account_id}").json())

    def create_account(self, account: NewAccount) -> UserAccount:
        manager = self._search("userName", account.manager) if account.manager else None
        response = self._call("POST", "/Users", body=user_resource(account, manager.id if manager else None))
        created = to_account(response.json())
        log.info("scim: created user %s (%s)", created.user_name, created.id)
        return created

    def set_active(self, account_id: str, active: bool) -> UserAccount:
        patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]}
        response = self._call("PATCH", f"/Users/{account_id}", body=patch)
        if response.status_code == 204 or not response.content:
            return self.get_account(account_id)
        return to_account(response.json())
