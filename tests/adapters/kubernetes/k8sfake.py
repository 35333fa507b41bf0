"""A local Kubernetes API server for the tests, following the documented contract of the parts ActionDesk uses:
apps/v1 Deployments (GET; PATCH as strategic-merge, merge or JSON patch), the scale subresource, ReplicaSets
and pods by labelSelector, events by fieldSelector, bearer-token auth and metav1.Status errors. A tiny
deployment controller turns a pod-template change into a ReplicaSet revision the way the real one does
(an existing ReplicaSet with the same template is reused and gets the next revision)."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REVISION = "deployment.kubernetes.io/revision"
TOKEN = "k8s-test-token"


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif value is None:
            into.pop(key, None)
        else:
            into[key] = copy.deepcopy(value)


def _json_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    for op in ops:
        if op.get("op") != "replace":
            raise ValueError(f"unsupported op {op.get('op')}")
        *parents, last = [p for p in op["path"].split("/") if p]
        node = doc
        for part in parents:
            node = node[part]
        if last not in node:
            raise ValueError(f"path {op['path']} does not exist")
        node[last] = copy.deepcopy(op["value"])


def _template_key(template: dict[str, Any]) -> str:
    t = copy.deepcopy(template)
    t.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return json.dumps(t, sort_keys=True)


class FakeCluster:
    """State plus the controller. One Deployment ``shop/web`` with two revisions to start with."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deployments: dict[tuple[str, str], dict[str, Any]] = {}
        self.replica_sets: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []  # (method, path, content type)
        self.add("shop", "web", "registry.example/web:1.0", replicas=3)
        self.set_image("shop", "web", "registry.example/web:1.1")
        self.events.append(
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "Back-off restarting failed container web",
                "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop"},
                "count": 4,
                "lastTimestamp": "2026-11-25T10:00:00Z",
            }
        )

    def add(self, namespace: str, name: str, image: str, replicas: int) -> None:
        self.deployments[(namespace, name)] = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": f"uid-{name}",
                "generation": 1,
                "annotations": {},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": name, "image": image}]},
                },
            },
            "status": {"replicas": replicas, "readyReplicas": replicas},
        }
        self.reconcile(namespace, name)

    def set_image(self, namespace: str, name: str, image: str) -> None:
        self.deployments[(namespace, name)]["spec"]["template"]["spec"]["containers"][0]["image"] = image
        self.reconcile(namespace, name)

    def owned(self, namespace: str, name: str) -> list[dict[str, Any]]:
        uid = self.deployments[(namespace, name)]["metadata"]["uid"]
        return [rs for rs in self.replica_sets if rs["metadata"]["ownerReferences"][0]["uid"] == uid]

    def reconcile(self, namespace: str, name: str) -> None:
        """The deployment controller: the live template's ReplicaSet gets the newest revision."""
        deployment = self.deployments[(namespace, name)]
        template = deployment["spec"]["template"]
        owned = self.owned(namespace, name)
        newest = max((int(rs["metadata"]["annotations"][REVISION]) for rs in owned), default=0)
        current = next((rs for rs in owned if _template_key(rs["spec"]["template"]) == _template_key(template)), None)
        if current is None:
            digest = hashlib.sha256(_template_key(template).encode()).hexdigest()[:10]
            labeled = copy.deepcopy(template)
            labeled["metadata"].setdefault("labels", {})["pod-template-hash"] = digest
            current = {
                "metadata": {
                    "name": f"{name}-{digest}",
                    "namespace": namespace,
                    "labels": dict(labeled["metadata"]["labels"]),
                    "annotations": {REVISION: str(newest + 1)},
                    "ownerReferences": [{"kind": "Deployment", "name": name, "uid": deployment["metadata"]["uid"]}],
                    "creationTimestamp": "2026-11-25T09:00:00Z",
                },
                "spec": {"replicas": 0, "template": labeled},
            }
            self.replica_sets.append(current)
        elif int(current["metadata"]["annotations"][REVISION]) != newest:
            current["metadata"]["annotations"][REVISION] = str(newest + 1)
        for rs in self.owned(namespace, name):
            rs["spec"]["replicas"] = deployment["spec"]["replicas"] if rs is current else 0
        deployment["metadata"]["annotations"][REVISION] = current["metadata"]["annotations"][REVISION]
        deployment["metadata"]["generation"] += 1

    def pods(self, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        pods = []
        for rs in self.replica_sets:
            labels = rs["metadata"]["labels"]
            if rs["metadata"]["namespace"] != namespace or any(labels.get(k) != v for k, v in selector.items()):
                continue
            for i in range(rs["spec"]["replicas"]):
                pods.append(
                    {
                        "metadata": {"name": f"{rs['metadata']['name']}-{i}", "labels": labels},
                        "spec": {"nodeName": f"node-{i}"},
                        "status": {"phase": "Running", "containerStatuses": [{"ready": True, "restartCount": i}]},
                    }
                )
        return pods


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _labels(selector: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in selector.split(",") if part)


class _Handler(BaseHTTPRequestHandler):
    cluster: FakeCluster

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        content_type = self.headers.get("Content-Type", "")
        self.cluster.requests.append((method, url.path, content_type))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, _status(401, "Unauthorized", "Unauthorized"))
        parts = [p for p in url.path.split("/") if p]
        body = None
        if method == "PATCH":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        with self.cluster.lock:
            code, answer = self._handle(method, parts, query, content_type, body)
        self._reply(code, answer)

    def _handle(self, method: str, parts: list[str], query: dict[str, str], content_type: str, body: Any):
        c = self.cluster
        if parts[:3] == ["apis", "apps", "v1"] and len(parts) >= 6 and parts[3] == "namespaces":
            namespace, kind = parts[4], parts[5]
            if kind == "replicasets" and len(parts) == 6 and method == "GET":
                selector = _labels(query.get("labelSelector", ""))
                items = [
                    rs
                    for rs in c.replica_sets
                    if rs["metadata"]["namespace"] == namespace
                    and all(rs["metadata"]["labels"].get(k) == v for k, v in selector.items())
                ]
                return 200, {"kind": "ReplicaSetList", "items": items}
            if kind == "deployments" and len(parts) in (7, 8):
                key = (namespace, parts[6])
                if key not in c.deployments:
                    return 404, _status(404, "NotFound", f'deployments.apps "{parts[6]}" not found')
                deployment = c.deployments[key]
                if method == "GET" and len(parts) == 7:
                    return 200, deployment
                if method == "PATCH" and len(parts) == 8 and parts[7] == "scale":
                    if content_type != "application/merge-patch+json":
                        return 415, _status(415, "UnsupportedMediaType", f"the scale patch type {content_type}")
                    deployment["spec"]["replicas"] = int(body["spec"]["replicas"])
                    deployment["status"]["readyReplicas"] = deployment["spec"]["replicas"]
                    c.reconcile(*key)
                    return 200, {"kind": "Scale", "spec": {"replicas": deployment["spec"]["replicas"]}}
                if method == "PATCH" and len(parts) == 7:
                    before = _template_key(deployment["spec"]["template"])
                    try:
                        if content_type in ("application/strategic-merge-patch+json", "application/merge-patch+json"):
                            _merge(deployment, body)
                        elif content_type == "application/json-patch+json":
                            _json_patch(deployment, body)
                        else:
                            return 415, _status(415, "UnsupportedMediaType", f"the body of type {content_type}")
                    except (ValueError, KeyError, TypeError) as exc:
                        return 422, _status(422, "Invalid", str(exc))
                    if _template_key(deployment["spec"]["template"]) != before:
                        c.reconcile(*key)
                    return 200, deployment
        if parts[:2] == ["api", "v1"] and len(parts) == 5 and parts[2] == "namespaces" and method == "GET":
            namespace, kind = parts[3], parts[4]
            if kind == "pods":
                return 200, {"kind": "PodList", "items": c.pods(namespace, _labels(query.get("labelSelector", "")))}
            if kind == "events":
                wanted = _labels(query.get("fieldSelector", ""))
                items = [
                    e
                    for e in c.events
                    if all(e["involvedObject"].get(k.removeprefix("involvedObject.")) == v for k, v in wanted.items())
                ]
                return 200, {"kind": "EventList", "items": items}
        return 404, _status(404, "NotFound", "the server could not find the requested resource")

    def do_GET(self) -> None:
        self._route("GET")

    def do_PATCH(self) -> None:
        self._route("PATCH")


@contextmanager
def fake_api_server() -> Iterator[tuple[str, FakeCluster]]:
    cluster = FakeCluster()
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", cluster
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
