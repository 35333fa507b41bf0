"""What a doctor check is (a system, its status, reachability, credentials, needs and notes), the report of all of
them, and the HTTP helpers every probe reads with: one request that marks the check unusable on an unreachable
system, a refused credential, a missing permission or a 5xx; secrets never printed (``shown``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from actiondesk.actions.packs import system_packs
from actiondesk.core.settings import Settings

Status = Literal["ok", "warning", "unusable"]
TIMEOUT = 5.0
ORDER = {"unusable": 0, "warning": 1, "ok": 2}


@dataclass
class Check:
    system: str
    target: str
    status: Status = "ok"
    reachable: bool | None = None
    credentials: str = ""
    scopes: str = ""
    detail: list[str] = field(default_factory=list)

    def worse(self, status: Status, note: str) -> None:
        if ORDER[status] < ORDER[self.status]:
            self.status = status
        self.detail.append(note)


@dataclass
class Report:
    checks: list[Check]
    off: list[str]

    @property
    def usable(self) -> bool:
        return all(c.status != "unusable" for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {"usable": self.usable, "systems": [asdict(c) for c in self.checks], "not_configured": self.off}


def shown(url: str) -> str:
    """A URL without any user:password in it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))


def pack_secret(settings: Settings, pack_name: str) -> str | None:
    pack = next(p for p in system_packs() if p.name == pack_name)
    value = settings.pack_credentials.get(pack.credential or pack.name)
    return value.get_secret_value() if value is not None else None


def pack_scopes(pack_name: str) -> str:
    pack = next(p for p in system_packs() if p.name == pack_name)
    return f"{pack.service_account}: {', '.join(sorted(pack.scopes))}"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def request(check: Check, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
    """One request; an unreachable system, a refused credential, a missing scope or a 5xx marks ``check``
    unusable and answers None. Other answers are the caller's to read."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        check.reachable = False
        check.worse("unusable", f"unreachable: {type(exc).__name__}: {str(exc)[:160]}")
        return None
    check.reachable = True
    status = response.status_code
    if status == 401:
        check.credentials = "refused (401)"
        check.worse("unusable", f"{method} {path}: 401, the credentials are wrong or missing")
        return None
    if status == 403:
        check.credentials = "accepted, but not allowed (403)"
        check.worse("unusable", f"{method} {path}: 403, the account lacks a permission this needs")
        return None
    if status >= 500:
        check.worse("unusable", f"{method} {path}: answered {status}")
        return None
    return response


def open_client(url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), headers=headers or {}, timeout=TIMEOUT, **kwargs)
