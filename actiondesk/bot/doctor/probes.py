"""The doctor's probes, one a system: each is a read a working setup answers (nothing is changed anywhere).
Prometheus runs ``vector(1)`` and, in the live estate, every catalog query; Kubernetes answers
SelfSubjectAccessReviews for the verbs the packs use; Argo CD says who the token is and lists applications;
Slack's ``auth.test`` lists the token's scopes; the rest read one record of what ActionDesk reads."""

from __future__ import annotations

from typing import Any

import httpx

from actiondesk.bot.doctor.checks import TIMEOUT, Check, bearer, open_client, pack_scopes, pack_secret, request, shown
from actiondesk.core.errors import ActionDeskError, ConfigurationError
from actiondesk.core.settings import Settings

# What the Kubernetes service account must be allowed: (verb, group, resource, subresource, needed to read).
KUBERNETES_VERBS = (
    ("get", "apps", "deployments", "", True),
    ("list", "apps", "replicasets", "", True),
    ("patch", "apps", "deployments", "", False),
    ("patch", "apps", "deployments", "scale", False),
)


def prometheus(settings: Settings, catalog: Any) -> Check:
    url = settings.prometheus_url or ""
    token = pack_secret(settings, "prometheus")
    check = Check("Prometheus", shown(url), scopes=pack_scopes("prometheus") + " (query API)")
    with open_client(url, bearer(token)) as client:
        answer = request(check, client, "GET", "/api/v1/query", params={"query": "vector(1)"})
        if answer is None:
            return check
        if answer.status_code != 200 or answer.json().get("status") != "success":
            check.worse("unusable", f"GET /api/v1/query answered {answer.status_code}: not a Prometheus query API")
            return check
        check.credentials = "accepted" if token else "none sent (none configured)"
        if catalog is None:
            return check
        bad, empty = [], []
        for name, entry in catalog.entries.items():
            for signal in entry.signals:
                query = entry.query(signal, settings.prometheus_window)
                found = request(check, client, "GET", "/api/v1/query", params={"query": query})
                if found is None:
                    return check
                body = found.json()
                if body.get("status") != "success":
                    bad.append(f"{name}.{signal}: {body.get('error', found.status_code)}")
                elif not body.get("data", {}).get("result"):
                    empty.append(f"{name}.{signal}")
        if bad:
            check.worse("warning", "catalog queries Prometheus refuses: " + "; ".join(bad))
        if empty:
            check.detail.append("no data yet for " + ", ".join(empty))
        if not bad:
            check.detail.append(f"every catalog query parses ({len(catalog.entries)} services)")
    return check


def loki(settings: Settings, catalog: Any) -> Check:
    url = settings.loki_url or ""
    token = pack_secret(settings, "loki")
    check = Check("Loki", shown(url), scopes=pack_scopes("loki") + " (query API)")
    with open_client(url, bearer(token)) as client:
        answer = request(check, client, "GET", "/loki/api/v1/labels")
        if answer is not None:
            if answer.status_code != 200:
                check.worse("unusable", f"GET /loki/api/v1/labels answered {answer.status_code}")
            else:
                check.credentials = "accepted" if token else "none sent (none configured)"
    return check


def kubernetes(settings: Settings, catalog: Any) -> Check:
    url = settings.kubernetes_url or ""
    check = Check("Kubernetes", shown(url), scopes="get deployments, list replicasets, patch deployments(/scale)")
    token = pack_secret(settings, "kubernetes")
    if not token:
        check.worse("unusable", 'no credential: set ACTIONDESK_PACK_CREDENTIALS {"kubernetes": TOKEN}')
        return check
    namespaces = sorted({e.kubernetes.namespace for e in catalog.entries.values() if e.kubernetes}) if catalog else []
    with open_client(url, bearer(token)) as client:
        if request(check, client, "GET", "/version") is None:
            return check
        check.credentials = "accepted"
        missing_read: list[str] = []
        missing_write: list[str] = []
        for namespace in namespaces or [""]:
            for verb, group, resource, sub, reading in KUBERNETES_VERBS:
                review = {
                    "apiVersion": "authorization.k8s.io/v1",
                    "kind": "SelfSubjectAccessReview",
                    "spec": {
                        "resourceAttributes": {
                            "namespace": namespace,
                            "verb": verb,
                            "group": group,
                            "resource": resource,
                            "subresource": sub,
                        }
                    },
                }
                path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
                answer = request(check, client, "POST", path, json=review)
                if answer is None:
                    return check
                if not answer.json().get("status", {}).get("allowed"):
                    what = f"{verb} {resource}{'/' + sub if sub else ''} in {namespace or 'all namespaces'}"
                    (missing_read if reading else missing_write).append(what)
        if missing_read:
            check.worse("unusable", "not allowed: " + "; ".join(missing_read))
        if missing_write:
            check.worse("warning", "fixes will be refused, not allowed: " + "; ".join(missing_write))
        for entry in catalog.entries.values() if catalog else []:
            ref = entry.kubernetes
            if ref is None:
                continue
            found = request(
                check, client, "GET", f"/apis/apps/v1/namespaces/{ref.namespace}/deployments/{ref.deployment}"
            )
            if found is None:
                return check
            if found.status_code == 404:
                check.worse("warning", f"{entry.service.name}: no deployment {ref.namespace}/{ref.deployment}")
    return check


def argocd(settings: Settings, catalog: Any) -> Check:
    url = settings.argocd_url or ""
    check = Check("Argo CD", shown(url), scopes="applications get, sync (rollback)")
    token = pack_secret(settings, "argocd")
    if not token:
        check.worse("unusable", 'no credential: set ACTIONDESK_PACK_CREDENTIALS {"argocd": TOKEN}')
        return check
    with open_client(url, bearer(token)) as client:
        info = request(check, client, "GET", "/api/v1/session/userinfo")
        if info is None:
            return check
        body = info.json() if info.status_code == 200 else {}
        if not body.get("loggedIn"):
            check.credentials = "refused (not logged in)"
            check.worse("unusable", "the token is not accepted: /api/v1/session/userinfo says loggedIn false")
            return check
        check.credentials = f"accepted ({body.get('username') or 'token'})"
        listed = request(check, client, "GET", "/api/v1/applications", params={"fields": "items.metadata.name"})
        if listed is None:
            return check
        names = {a.get("metadata", {}).get("name") for a in (listed.json().get("items") or [])}
        for entry in catalog.entries.values() if catalog else []:
            if entry.argocd is not None and entry.argocd.application not in names:
                check.worse("warning", f"{entry.service.name}: application {entry.argocd.application} not visible")
    return check


def servicenow(settings: Settings, catalog: Any) -> Check:
    from actiondesk.bot.wiring.tickets import servicenow_client

    url = settings.servicenow_instance_url or ""
    check = Check("ServiceNow", shown(url), scopes="incident read/write (itil), sc_req_item for hardware")
    try:
        client = servicenow_client(settings)
    except ConfigurationError as exc:
        check.worse("unusable", str(exc))
        return check
    try:
        client.request("GET", "/api/now/table/incident", params={"sysparm_limit": "1", "sysparm_fields": "sys_id"})
    except ActionDeskError as exc:
        text = str(exc)
        check.reachable = "unreachable" not in text
        if "401" in text:
            check.credentials = "refused (401)"
        check.worse("unusable", text[:200])
    else:
        check.reachable, check.credentials = True, "accepted"
    finally:
        client.close()
    return check


def jsm(settings: Settings, catalog: Any) -> Check:
    url = settings.jsm_base_url or ""
    check = Check("Jira Service Management", shown(url), scopes="read/write:servicedesk-request")
    if not (settings.jsm_email and settings.jsm_api_token and settings.jsm_service_desk_id):
        check.worse("unusable", "set JSM_EMAIL, JSM_API_TOKEN and JSM_SERVICE_DESK_ID")
        return check
    auth = (settings.jsm_email, settings.jsm_api_token.get_secret_value())
    with open_client(url, {"Accept": "application/json"}, auth=auth) as client:
        path = f"/rest/servicedeskapi/servicedesk/{settings.jsm_service_desk_id}"
        answer = request(check, client, "GET", path)
        if answer is not None:
            if answer.status_code == 404:
                check.worse("unusable", f"no service desk {settings.jsm_service_desk_id} visible to this account")
            else:
                check.credentials = "accepted"
    return check


def slack(settings: Settings, catalog: Any) -> Check:
    from actiondesk.bot.slack.scopes import COMMAND_SCOPE, EVENT_SCOPES, METHOD_SCOPES

    needed = sorted(
        {s for m in METHOD_SCOPES.values() for s in m} | {s for e in EVENT_SCOPES.values() for s in e} | {COMMAND_SCOPE}
    )
    check = Check("Slack", shown(settings.slack_api_url), scopes=", ".join(needed))
    assert settings.slack_bot_token is not None
    headers = bearer(settings.slack_bot_token.get_secret_value())
    with open_client(settings.slack_api_url, headers) as client:
        answer = request(check, client, "POST", "auth.test")
        if answer is None:
            return check
        body = answer.json()
        if not body.get("ok"):
            check.credentials = f"refused ({body.get('error', 'not ok')})"
            check.worse("unusable", f"auth.test: {body.get('error', 'not ok')}")
            return check
        check.credentials = f"accepted ({body.get('team', '?')} / {body.get('user', '?')})"
        granted = {s.strip() for s in answer.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
        missing = [s for s in needed if s not in granted]
        if missing and granted:
            check.worse("unusable", "the bot token lacks scopes: " + ", ".join(missing))
        elif not granted:
            check.detail.append("Slack did not list the token's scopes (X-OAuth-Scopes): not checked")
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        check.worse("unusable", "set SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket Mode)")
    return check


def teams(settings: Settings, catalog: Any) -> Check:
    tenant = settings.microsoft_app_tenant_id or "botframework.com"
    url = settings.teams_oauth_url or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    check = Check("Microsoft Teams", shown(url), scopes="https://api.botframework.com/.default")
    if settings.microsoft_app_password is None:
        check.worse("unusable", "set MICROSOFT_APP_PASSWORD (the bot's client secret)")
        return check
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.microsoft_app_id,
        "client_secret": settings.microsoft_app_password.get_secret_value(),
        "scope": "https://api.botframework.com/.default",
    }
    with httpx.Client(timeout=TIMEOUT) as client:
        answer = request(check, client, "POST", url, data=form)
        if answer is None:
            return check
        if answer.status_code != 200:
            error = answer.json().get("error", answer.status_code) if answer.content else answer.status_code
            check.credentials = f"refused ({error})"
            check.worse("unusable", f"the token endpoint refused the app id and secret: {error}")
        else:
            check.credentials = "accepted (a token was issued)"
    return check


def openai(settings: Settings, catalog: Any) -> Check:
    url = settings.openai_base_url or "https://api.openai.com/v1"
    check = Check("OpenAI-compatible model", shown(url), scopes=f"model {settings.llm_model}")
    assert settings.openai_api_key is not None
    with open_client(url, bearer(settings.openai_api_key.get_secret_value())) as client:
        answer = request(check, client, "GET", "models")
        if answer is None:
            return check
        check.credentials = "accepted"
        if answer.status_code == 200:
            models = {m.get("id") for m in answer.json().get("data") or [] if isinstance(m, dict)}
            if models and settings.llm_model not in models:
                check.worse("warning", f"the endpoint does not list the model {settings.llm_model}")
        else:
            check.detail.append(f"GET models answered {answer.status_code}: the model list was not checked")
    return check


def scim(settings: Settings, catalog: Any) -> Check:
    url = settings.scim_url or ""
    check = Check("SCIM identity provider", shown(url), scopes="Users read/write")
    if settings.scim_token is None:
        check.worse("unusable", "set ACTIONDESK_SCIM_TOKEN")
        return check
    with open_client(url, bearer(settings.scim_token.get_secret_value())) as client:
        answer = request(check, client, "GET", "Users", params={"count": "1"})
        if answer is not None:
            if answer.status_code != 200:
                check.worse("unusable", f"GET Users answered {answer.status_code}")
            else:
                check.credentials = "accepted"
    return check


def ldap(settings: Settings, catalog: Any) -> Check:
    import ldap3
    from ldap3.core.exceptions import LDAPException

    url = settings.ldap_url or ""
    check = Check("LDAP directory", shown(url), scopes=f"read/write groups under {settings.ldap_groups_base}")
    if not (settings.ldap_bind_dn and settings.ldap_password and settings.ldap_groups_base):
        check.worse("unusable", "set ACTIONDESK_LDAP_BIND_DN, ACTIONDESK_LDAP_PASSWORD and ACTIONDESK_LDAP_GROUPS_BASE")
        return check
    try:
        server = ldap3.Server(url, connect_timeout=TIMEOUT)
        connection = ldap3.Connection(
            server, settings.ldap_bind_dn, settings.ldap_password.get_secret_value(), receive_timeout=TIMEOUT
        )
        if not connection.bind():
            check.reachable = True
            check.credentials = f"refused ({connection.result.get('description', 'bind failed')})"
            check.worse("unusable", "the bind DN and password are not accepted")
            return check
        check.reachable, check.credentials = True, "accepted"
        if not connection.search(settings.ldap_groups_base, "(objectClass=*)", search_scope=ldap3.BASE):
            check.worse("unusable", f"the groups base {settings.ldap_groups_base} cannot be read")
        connection.unbind()
    except LDAPException as exc:
        check.reachable = False
        check.worse("unusable", f"unreachable: {type(exc).__name__}")
    return check


def procurement(settings: Settings, catalog: Any) -> Check:
    url = settings.procurement_url or ""
    check = Check("Procurement API", shown(url), scopes="orders read/write")
    token = settings.procurement_token.get_secret_value() if settings.procurement_token else None
    with open_client(url, bearer(token)) as client:
        if request(check, client, "GET", "/") is not None:
            check.credentials = "not refused" if token else "none sent (none configured)"
    return check


def pagerduty(settings: Settings, catalog: Any) -> Check:
    check = Check("PagerDuty", shown(settings.pagerduty_url), scopes="Events API v2 integration key")
    with open_client(settings.pagerduty_url) as client:
        if request(check, client, "GET", "/") is not None:
            check.credentials = "not checked: the Events API checks a routing key only with an event"
    return check


def opsgenie(settings: Settings, catalog: Any) -> Check:
    check = Check("Opsgenie", shown(settings.opsgenie_url), scopes="API integration: create and close alerts")
    assert settings.opsgenie_api_key is not None
    headers = {"Authorization": f"GenieKey {settings.opsgenie_api_key.get_secret_value()}"}
    with open_client(settings.opsgenie_url, headers) as client:
        try:
            response = client.get("/v2/heartbeats")
        except httpx.HTTPError as exc:
            check.reachable = False
            check.worse("unusable", f"unreachable: {type(exc).__name__}")
            return check
        check.reachable = True
        if response.status_code == 401:
            check.credentials = "refused (401)"
            check.worse("unusable", "the GenieKey is not accepted")
        else:
            check.credentials = "accepted" if response.status_code < 400 else "accepted (alert-only key)"
    return check


def service_catalog(settings: Settings) -> tuple[Check, Any]:
    from actiondesk.adapters.catalog import CatalogError, load_catalog

    path = settings.services_file
    check = Check("Service catalog", str(path or "(ACTIONDESK_SERVICES_FILE unset)"), reachable=None)
    if path is None:
        check.worse("unusable", "ACTIONDESK_ESTATE=live needs ACTIONDESK_SERVICES_FILE")
        return check, None
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        check.worse("unusable", "; ".join(exc.lines()))
        return check, None
    check.reachable = True
    check.detail.append(f"{len(catalog.entries)} services: {', '.join(sorted(catalog.entries))}")
    return check, catalog
