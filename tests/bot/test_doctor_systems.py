"""The doctor's probes of Kubernetes, Argo CD and Slack against small local HTTP servers that answer as those
APIs do (access reviews, userinfo, auth.test with X-OAuth-Scopes); the report names what is missing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from actiondesk.bot.doctor.report import diagnose
from actiondesk.bot.slack.scopes import COMMAND_SCOPE, EVENT_SCOPES, METHOD_SCOPES
from actiondesk.core.settings import Settings

Answer = tuple[int, dict, dict[str, str]]
Route = Callable[[str, str, dict, dict[str, str]], Answer]

NEEDED_SLACK = sorted(
    {s for m in METHOD_SCOPES.values() for s in m} | {s for e in EVENT_SCOPES.values() for s in e} | {COMMAND_SCOPE}
)


@pytest.fixture
def fake() -> Iterator[Callable[[Route], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(route: Route) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                status, payload, headers = route(method, self.path, body, dict(self.headers))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def check(report, name: str):
    return next(c for c in report.checks if c.system == name)


def test_kubernetes_names_the_verbs_it_is_not_allowed(fake, tmp_path: Path) -> None:
    reviews: list[dict] = []

    def kube(method: str, path: str, body: dict, headers: dict[str, str]) -> Answer:
        if headers.get("Authorization") != "Bearer kube-token":
            return 401, {"kind": "Status", "code": 401}, {}
        if path == "/version":
            return 200, {"major": "1", "minor": "31"}, {}
        if path.endswith("/selfsubjectaccessreviews"):
            attributes = body["spec"]["resourceAttributes"]
            reviews.append(attributes)
            allowed = attributes["verb"] != "patch" or attributes["subresource"] != "scale"
            return 201, {"status": {"allowed": allowed}}, {}
        if path == "/apis/apps/v1/namespaces/shop/deployments/payment-gateway":
            return 200, {"metadata": {"name": "payment-gateway"}}, {}
        return 404, {"kind": "Status", "code": 404}, {}

    url = fake(kube)
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n"
        "  payment-gateway:\n"
        "    {tier: 1, environment: production, kubernetes: {namespace: shop, deployment: payment-gateway}}\n"
        "  search: {tier: 2, environment: production, kubernetes: {namespace: shop, deployment: search}}\n",
        encoding="utf-8",
    )
    values = {"kubernetes_url": url, "estate": "live", "services_file": catalog}
    report = diagnose(settings(**values, pack_credentials={"kubernetes": "kube-token"}))
    kube_check = check(report, "Kubernetes")
    assert kube_check.status == "warning"
    assert kube_check.credentials == "accepted"
    assert any("patch deployments/scale in shop" in d for d in kube_check.detail)
    assert any("search: no deployment shop/search" in d for d in kube_check.detail)
    assert {r["namespace"] for r in reviews} == {"shop"}
    assert report.usable
    refused = diagnose(settings(**values, pack_credentials={"kubernetes": "wrong"}))
    assert check(refused, "Kubernetes").status == "unusable"
    assert check(refused, "Kubernetes").credentials == "refused (401)"
    assert not refused.usable
    missing = diagnose(settings(kubernetes_url=url))
    assert "ACTIONDESK_PACK_CREDENTIALS" in check(missing, "Kubernetes").detail[0]


def test_argocd_says_whether_the_token_is_logged_in_and_which_apps_it_sees(fake, tmp_path: Path) -> None:
    def argo(method: str, path: str, body: dict, headers: dict[str, str]) -> Answer:
        logged_in = headers.get("Authorization") == "Bearer argo-token"
        if path.startswith("/api/v1/session/userinfo"):
            return 200, {"loggedIn": logged_in, "username": "actiondesk" if logged_in else ""}, {}
        if path.startswith("/api/v1/applications"):
            if not logged_in:
                return 401, {"error": "no session"}, {}
            return 200, {"items": [{"metadata": {"name": "payment-gateway"}}]}, {}
        return 404, {}, {}

    url = fake(argo)
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n"
        "  payment-gateway: {tier: 1, environment: production, argocd: {application: payment-gateway}}\n"
        "  search: {tier: 2, environment: production, argocd: {application: search-prod}}\n",
        encoding="utf-8",
    )
    values = {"argocd_url": url, "estate": "live", "services_file": catalog}
    report = diagnose(settings(**values, pack_credentials={"argocd": "argo-token"}))
    argo_check = check(report, "Argo CD")
    assert argo_check.credentials == "accepted (actiondesk)"
    assert argo_check.status == "warning"
    assert argo_check.detail == ["search: application search-prod not visible"]
    refused = check(diagnose(settings(**values, pack_credentials={"argocd": "stale"})), "Argo CD")
    assert refused.status == "unusable"
    assert refused.credentials == "refused (not logged in)"


def test_slack_names_the_scopes_the_bot_token_lacks(fake) -> None:
    granted: list[str] = list(NEEDED_SLACK)

    def slack(method: str, path: str, body: dict, headers: dict[str, str]) -> Answer:
        if headers.get("Authorization") != "Bearer xoxb-good":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        return 200, {"ok": True, "team": "Acme", "user": "actiondesk"}, {"X-OAuth-Scopes": ",".join(granted)}

    url = fake(slack) + "/api/"
    values = {"slack_api_url": url, "slack_signing_secret": "s3cret"}
    good = check(diagnose(settings(**values, slack_bot_token="xoxb-good")), "Slack")
    assert good.status == "ok"
    assert good.credentials == "accepted (Acme / actiondesk)"
    granted.remove("users:read.email")
    lacking = check(diagnose(settings(**values, slack_bot_token="xoxb-good")), "Slack")
    assert lacking.status == "unusable"
    assert lacking.detail == ["the bot token lacks scopes: users:read.email"]
    bad = check(diagnose(settings(**values, slack_bot_token="xoxb-revoked")), "Slack")
    assert bad.credentials == "refused (invalid_auth)"
    assert "xoxb-revoked" not in json.dumps(diagnose(settings(**values, slack_bot_token="xoxb-revoked")).as_json())


def test_an_answer_of_the_wrong_shape_is_reported_not_a_crash(fake) -> None:
    url = fake(lambda method, path, body, headers: (200, [], {}))  # a JSON list where Argo CD answers an object
    report = diagnose(settings(argocd_url=url, pack_credentials={"argocd": "argo-token"}))
    argo = check(report, "Argo CD")
    assert argo.status == "unusable"
    assert argo.detail[0].startswith("AttributeError")
    assert not report.usable
