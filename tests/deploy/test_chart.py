"""The Helm chart: its templates rendered with Helm's own engine (helm-python-sdk binds Helm's Go SDK, since no
registry here packages a `helm` binary) and every manifest validated against the Kubernetes JSON schemas
(kubernetes-validate, strict: no unknown fields) for the oldest and the newest Kubernetes the chart targets; the
ServiceMonitor against the Prometheus Operator's CRD schema. No network is used."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from conftest import CHART
from settings_names import SIGN_IN, setting_names

KUBERNETES = ["1.25", kubernetes_validate.utils.latest_version()]  # Chart.yaml's kubeVersion floor, and the newest
MINIMAL: dict[str, Any] = {"database": {"existingSecret": "actiondesk-db"}}
FULL: dict[str, Any] = {
    "replicaCount": 3,
    "image": {"repository": "registry.example.com/actiondesk", "tag": "1.2.3"},
    "imagePullSecrets": [{"name": "registry"}],
    "database": {"existingSecret": "actiondesk-db", "key": "url"},
    "oidc": {
        "issuer": "https://id.example.com/realms/ops",
        "clientId": "actiondesk",
        "clientSecret": {"existingSecret": "actiondesk-oidc"},
    },
    "secretEnv": ["actiondesk-slack", "actiondesk-itsm"],
    "config": {"ACTIONDESK_LOG_LEVEL": "DEBUG", "ACTIONDESK_MAX_STEPS": 20, "SERVICENOW_INSTANCE_URL": "https://x"},
    "policies": {"local.cedar": '@id("local.x")\nforbid (principal, action, resource);\n'},
    "calendars": {
        "freeze": {
            "holidays.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n",
            "month-end.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n",
        },
        "chaos": {"fridays.ics": "BEGIN:VCALENDAR\nEND:VCALENDAR\n"},
    },
    "serviceCatalog": "name: estate\nworld:\n  services: {billing: {tier: 1, environment: production}}\n",
    "roleCatalog": "people: {alice: {email: alice@example.com, groups: [sre]}}\n",
    "owners": "default: {team: service-desk, group: support}\n",
    "runbooks": {"restart.yaml": "name: restart\n"},
    "tracing": {"otlpEndpoint": "http://otel-collector.observability:4318"},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "hosts": [{"host": "actiondesk.example.com"}],
        "tls": [{"secretName": "actiondesk-tls", "hosts": ["actiondesk.example.com"]}],
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "grafanaDashboard": {"enabled": True},
    "extraEnv": [{"name": "TZ", "value": "UTC"}],
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values, name="desk", namespace="ops", is_install=True)
    return [
        document
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


def kinds(manifests: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for manifest in manifests:
        found.setdefault(manifest["kind"], []).append(manifest)
    return found


def one(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = kinds(manifests)[kind]
    return found


def builtin(manifests: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (
        m
        for m in manifests
        if "." not in m["apiVersion"].split("/")[0] or m["apiVersion"].split("/")[0].endswith(".k8s.io")
    )


@pytest.mark.parametrize("values", [MINIMAL, FULL, {**MINIMAL, "migrations": {"job": False}, "replicaCount": 1}])
@pytest.mark.parametrize("version", KUBERNETES)
def test_every_manifest_is_valid_kubernetes(values: dict[str, Any], version: str) -> None:
    manifests = render(values)
    checked = 0
    for manifest in builtin(manifests):
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']} on Kubernetes {version}: {exc.message}")
        checked += 1
    assert checked == len([m for m in manifests if m["kind"] != "ServiceMonitor"])


def test_a_broken_manifest_is_caught_by_the_validator() -> None:
    deployment = one(render(MINIMAL), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError, match="pathh"):
        kubernetes_validate.validate(deployment, KUBERNETES[0], strict=True)


def test_the_service_monitor_fits_the_prometheus_operator_crd(node: str, node_package) -> None:
    module = node_package("@kubernetes-models/prometheus-operator") / "monitoring.coreos.com/v1/ServiceMonitor.js"
    monitor = one(render(FULL), "ServiceMonitor")
    script = (
        f"import {{ ServiceMonitor }} from {json.dumps(module.as_uri())};\n"
        "let text = ''; process.stdin.on('data', (d) => (text += d));\n"
        "process.stdin.on('end', () => { new ServiceMonitor(JSON.parse(text)).validate(); });\n"
    )
    for candidate, ok in [(monitor, True), ({**monitor, "spec": {"endpoints": monitor["spec"]["endpoints"]}}, False)]:
        done = subprocess.run(
            [node, "--input-type=module", "-e", script], input=json.dumps(candidate), capture_output=True, text=True
        )
        assert (done.returncode == 0) is ok, done.stderr
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_helm_lint_finds_nothing_to_warn_about() -> None:
    for values in (MINIMAL, FULL):
        report = helm.lint(CHART, values, strict=True)
        assert report["errors"] == []
        assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_without_a_database_secret_the_chart_refuses_to_render() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"database\.existingSecret is required"):
        render({})


def test_replicas_probes_and_the_pod_security() -> None:
    manifests = render(MINIMAL)
    deployment = one(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"][:3] == ["serve", "--host", "0.0.0.0"]
    assert container["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["automountServiceAccountToken"] is False
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selecting in (one(manifests, "Service"), one(manifests, "PodDisruptionBudget")):
        selector = selecting["spec"]["selector"]
        assert (selector.get("matchLabels") or selector).items() <= labels.items()
    assert one(manifests, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert "ServiceMonitor" not in kinds(manifests), "no Prometheus Operator API offline: no ServiceMonitor"
    assert "Ingress" not in kinds(manifests)


def test_migrations_run_as_a_hook_before_the_new_pods_and_the_pods_do_not_migrate() -> None:
    manifests = render(MINIMAL)
    job = one(manifests, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade"]
    assert container["env"][1]["valueFrom"]["secretKeyRef"] == {"name": "actiondesk-db", "key": "DATABASE_URL"}
    assert one(manifests, "ConfigMap")["data"]["ACTIONDESK_MIGRATE_ON_START"] == "false"
    without = render({**MINIMAL, "migrations": {"job": False}})
    assert "Job" not in kinds(without)
    assert one(without, "ConfigMap")["data"]["ACTIONDESK_MIGRATE_ON_START"] == "true"


def test_secrets_are_references_and_never_values() -> None:
    manifests = render(FULL)
    assert "Secret" not in kinds(manifests)
    (container,) = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert refs == {
        "DATABASE_URL": {"name": "actiondesk-db", "key": "url"},
        "ACTIONDESK_OIDC_CLIENT_SECRET": {"name": "actiondesk-oidc", "key": "ACTIONDESK_OIDC_CLIENT_SECRET"},
    }
    sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
    assert sources == ["desk-actiondesk", "actiondesk-slack", "actiondesk-itsm"]


def test_every_setting_the_chart_sets_is_one_actiondesk_reads() -> None:
    manifests = render(FULL)
    known = setting_names()
    (container,) = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    settings = next(m for m in kinds(manifests)["ConfigMap"] if m["metadata"]["name"] == "desk-actiondesk")["data"]
    set_here = set(settings) | {e["name"] for e in container["env"]} - {"TZ"}
    assert set_here - known == set()
    assert set_here >= SIGN_IN
    assert settings["ACTIONDESK_PUBLIC_URL"] == "https://actiondesk.example.com"
    assert settings["ACTIONDESK_MAX_STEPS"] == "20"
    assert settings["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"


def test_every_file_setting_points_at_a_file_the_pod_mounts() -> None:
    manifests = render(FULL)
    config_maps = {m["metadata"]["name"]: m for m in kinds(manifests)["ConfigMap"]}
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounted: dict[str, set[str]] = {}
    for mount in pod["containers"][0]["volumeMounts"]:
        source = volumes[mount["name"]].get("configMap")
        if source is not None:
            mounted[mount["mountPath"]] = set(config_maps[source["name"]]["data"])
    settings = config_maps["desk-actiondesk"]["data"]

    def exists(path: str) -> bool:
        folder, _, name = path.rpartition("/")
        return name in mounted.get(folder, set())

    for key in ("ACTIONDESK_FREEZE_CALENDARS", "ACTIONDESK_CHAOS_CALENDARS"):
        assert all(exists(p) for p in settings[key].split(",")), key
    assert len(settings["ACTIONDESK_FREEZE_CALENDARS"].split(",")) == 2
    assert exists(settings["ACTIONDESK_SANDBOX_SCENARIO"])
    assert exists(settings["ACTIONDESK_DIRECTORY_FILE"])
    assert exists(settings["ACTIONDESK_OWNERS_FILE"])
    assert "local.cedar" in mounted[settings["ACTIONDESK_POLICY_DIR"]]
    assert "restart.yaml" in mounted[settings["ACTIONDESK_RUNBOOK_DIR"]]
    checksums = one(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert (
        checksums["checksum/files"]
        != one(render(MINIMAL), "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/files"]
    ), "a changed policy or calendar rolls the pods"


def test_the_ingress_routes_to_the_service_port() -> None:
    manifests = render(FULL)
    ingress = one(manifests, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(manifests, "Service")
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    assert ingress["spec"]["ingressClassName"] == "nginx"


def test_the_grafana_dashboard_ships_in_a_configmap_for_the_sidecar() -> None:
    manifests = render(FULL)
    dashboard = next(m for m in kinds(manifests)["ConfigMap"] if m["metadata"]["name"] == "desk-actiondesk-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["actiondesk.json"]) == json.loads(
        (CHART / "dashboards/actiondesk.json").read_text()
    )


def _leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in {"config", "resources", "labels"}:
            yield from _leaves(value, f"{path}.")
        else:
            yield path


def test_every_value_is_documented_in_the_chart_readme() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    undocumented = [path for path in _leaves(values) if f"`{path}`" not in readme]
    assert undocumented == []
