"""`actiondesk serve` as a platform runs it: JSON log lines and OpenTelemetry traces over OTLP/HTTP.

One server (started once for the module) works one case end to end — opened through the console API with a
caller's ``traceparent``, approved by bob, rolled back, verified, mirrored into a local ServiceNow — with
``ACTIONDESK_LOG_FORMAT=json`` and ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a local OTLP/HTTP receiver
that decodes each export with the opentelemetry-proto messages. The tests then read what it wrote and sent.
"""

from __future__ import annotations

import gzip
import json
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto
from serverproc import ROOT, ServerProcess, server_env, signed_in, wait_for
from ticketfake_http import serving
from ticketfake_snow import PASSWORD, USER, FakeServiceNow

CALLER_TRACE = secrets.token_hex(16)
CALLER_SPAN = secrets.token_hex(8)
LOG_KEYS = {"time", "level", "logger", "message", "case_id", "trace_id", "span_id"}


@dataclass(frozen=True)
class SpanSeen:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, object]
    resource: dict[str, object]


def _value(any_value: object) -> object:
    kind = any_value.WhichOneof("value")  # type: ignore[attr-defined]
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]  # type: ignore[attr-defined]
    return getattr(any_value, kind) if kind else None


@dataclass
class OtlpReceiver:
    """POST /v1/traces with an ExportTraceServiceRequest (protobuf, optionally gzip), as a collector takes it."""

    spans: list[SpanSeen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if request.content_type != "application/x-protobuf":
            return web.Response(status=415)
        export = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            for resource_spans in export.resource_spans:
                resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            SpanSeen(
                                name=span.name,
                                kind=span.kind,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_id=span.parent_span_id.hex(),
                                attributes={a.key: _value(a.value) for a in span.attributes},
                                resource=resource,
                            )
                        )
        reply = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=reply, content_type="application/x-protobuf")


@dataclass
class Run:
    case_id: str
    approval_id: str
    lines: list[str]
    spans: list[SpanSeen]
    snow_traceparents: list[str]

    def named(self, name: str) -> list[SpanSeen]:
        return [s for s in self.spans if s.name == name]

    def by_id(self) -> dict[str, SpanSeen]:
        return {s.span_id: s for s in self.spans}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("observability")
    receiver = OtlpReceiver()
    collector = web.Application()
    collector.router.add_post("/v1/traces", receiver.handle)
    snow = FakeServiceNow()
    traceparents: list[str] = []

    @web.middleware
    async def note_traceparent(request: web.Request, handler):  # type: ignore[no-untyped-def]
        traceparents.append(request.headers.get("traceparent", ""))
        return await handler(request)

    itsm = web.Application(middlewares=[note_traceparent])
    itsm.router.add_route("*", "/{tail:.*}", snow.handle)
    with serving(collector) as otlp, serving(itsm) as snow_server:
        snow.base_url = snow_server.url
        env = server_env(
            f"sqlite:///{tmp / 'actiondesk.db'}",
            ACTIONDESK_LOG_FORMAT="json",
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url,
            OTEL_SERVICE_NAME="actiondesk-test",
            SERVICENOW_INSTANCE_URL=snow_server.url,
            SERVICENOW_USERNAME=USER,
            SERVICENOW_PASSWORD=PASSWORD,
        )
        server = ServerProcess.start(env, ROOT)
        try:
            alice, bob = signed_in(server.url, "alice"), signed_in(server.url, "bob")
            opened = alice.post(
                "/api/cases",
                json={"text": "the payment gateway is throwing 500s"},
                headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
            ).json()
            case_id = opened["id"]

            def approvals() -> list[dict]:
                return alice.get(f"/api/cases/{case_id}").json()["approvals"]

            approval_id = str(wait_for(lambda: (a := approvals()) and a[0]["id"], "the approval request", 60.0))
            bob.post(f"/api/approvals/{approval_id}", json={"decision": "approve"}).raise_for_status()

            def mirrored_resolution() -> bool:
                with snow.lock:
                    return any(
                        r["correlation_id"] == case_id and r["state"] == "6" for r in snow.tables["incident"].values()
                    )

            wait_for(mirrored_resolution, "the resolution mirrored into ServiceNow", 90.0)
        finally:
            server.stop()  # SIGTERM: the server flushes its batched spans before it exits
        assert server.process.returncode == 0, "".join(server.output)
        with receiver.lock:
            spans = list(receiver.spans)
        yield Run(case_id, approval_id, list(server.output), spans, list(traceparents))


def test_every_line_serve_writes_is_a_json_log_record(run: Run) -> None:
    assert run.lines, "the server wrote nothing"
    records = []
    for number, line in enumerate(run.lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"line {number} is not JSON: {line!r}")
        assert isinstance(record, dict), line
        assert record.keys() >= LOG_KEYS, line
        assert record["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
        records.append(record)
    assert any(r["message"].startswith("ActionDesk serving on http://") for r in records)


def test_the_records_of_the_case_work_carry_its_id_and_its_trace(run: Run) -> None:
    records = [json.loads(line) for line in run.lines]
    worked = [r for r in records if r["case_id"] == run.case_id]
    assert any("triaging -> planning" in r["message"] for r in worked), worked
    assert any("-> resolved" in r["message"] for r in worked), worked
    traces = {s.trace_id for s in run.spans}
    assert all(r["trace_id"] in traces and r["span_id"] for r in worked), worked
    assert all(r["case_id"] in (None, run.case_id) for r in records)  # one case, no other id leaks in


def test_the_spans_of_one_case_link_up_from_the_request_that_opened_it(run: Run) -> None:
    spans = run.by_id()
    opened = [s for s in run.named("POST /api/cases") if s.trace_id == CALLER_TRACE]
    assert len(opened) == 1, "the request span continues the caller's traceparent"
    request = opened[0]
    assert request.parent_id == CALLER_SPAN
    assert request.kind == SpanProto.SPAN_KIND_SERVER
    assert request.attributes["http.response.status_code"] in (200, 201)
    assert request.resource["service.name"] == "actiondesk-test"

    first_run = [s for s in run.named("case.run") if s.parent_id == request.span_id]
    assert len(first_run) == 1, "working the case is a child of the request that opened it"
    steps = [s for s in run.named("case.step") if s.parent_id == first_run[0].span_id]
    assert [s.attributes["actiondesk.case.status"] for s in steps[:3]] == ["open", "triaging", "planning"]
    decisions = run.named("governance.decide")
    assert decisions
    assert all(spans[d.parent_id].name == "case.step" for d in decisions)
    assert {d.attributes["actiondesk.decision"] for d in decisions} >= {"approve"}
    probes = run.named("action.probe")
    assert probes
    assert all(spans[p.parent_id].name == "case.step" for p in probes)

    approved = run.named("POST /api/approvals/{approval_id}")
    assert len(approved) == 1
    rollback = [s for s in run.named("action.run") if s.attributes["actiondesk.action"] == "rollback_deployment"]
    assert len(rollback) == 1
    assert rollback[0].attributes["actiondesk.run_status"] == "succeeded"
    chain = [rollback[0]]
    while chain[-1].parent_id in spans:
        chain.append(spans[chain[-1].parent_id])
    assert [s.name for s in chain] == ["action.run", "case.step", "case.run", "POST /api/approvals/{approval_id}"]
    assert chain[-1].parent_id == "", "the approval click starts a trace of its own"


def test_every_span_names_the_case_and_every_parent_is_there(run: Run) -> None:
    spans = run.by_id()
    for span in run.spans:
        if span.parent_id and span.parent_id != CALLER_SPAN:
            assert span.parent_id in spans, f"{span.name}: its parent was never exported"
        if span.name.startswith(("case.", "governance.", "action.", "outbox.")):
            assert span.attributes.get("actiondesk.case_id") == run.case_id, span


def test_outbound_calls_are_client_spans_that_carry_the_trace_on(run: Run) -> None:
    spans = run.by_id()
    deliveries = run.named("outbox.deliver")
    assert deliveries
    calls = [s for s in run.spans if s.kind == SpanProto.SPAN_KIND_CLIENT]
    assert calls, "httpx calls to ServiceNow were traced"
    for call in calls:
        assert spans[call.parent_id].name == "outbox.deliver"
        assert call.attributes["actiondesk.case_id"] == run.case_id
        method = call.attributes.get("http.request.method", call.attributes.get("http.method"))  # semconv 1.x or old
        assert method in {"GET", "POST", "PATCH"}
    sent = {(tp.split("-")[1], tp.split("-")[2]) for tp in run.snow_traceparents if tp}
    assert {(c.trace_id, c.span_id) for c in calls} == sent, "ServiceNow saw each client span as its parent"


def test_health_probes_and_scrapes_make_no_spans(run: Run) -> None:
    assert not [s for s in run.spans if s.attributes.get("url.path") in {"/healthz", "/readyz", "/metrics"}]


def test_the_server_span_of_a_request_names_its_route_not_its_ids(run: Run) -> None:
    names = {s.name for s in run.spans if s.kind == SpanProto.SPAN_KIND_SERVER}
    assert "GET /api/cases/{case_id}" in names
    assert not any(run.case_id in name for name in names)


def test_logs_of_a_json_server_are_one_object_per_line_even_for_a_failed_start(tmp_path: Path) -> None:
    env = server_env(
        f"sqlite:///{tmp_path / 'a.db'}", ACTIONDESK_LOG_FORMAT="json", ACTIONDESK_MIGRATE_ON_START="false"
    )
    done = subprocess.run(
        [sys.executable, "-m", "actiondesk", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
    assert lines
    assert all(line.keys() >= LOG_KEYS for line in lines)
    assert "actiondesk db upgrade" in lines[-1]["message"]
    assert lines[-1]["level"] == "ERROR"


def test_the_migration_job_writes_json_lines_too(tmp_path: Path) -> None:
    for url, code in [(f"sqlite:///{tmp_path / 'm.db'}", 0), ("postgresql+psycopg://nobody@127.0.0.1:1/none", 2)]:
        done = subprocess.run(
            [sys.executable, "-m", "actiondesk", "db", "upgrade"],
            cwd=ROOT,
            env=server_env(url, ACTIONDESK_LOG_FORMAT="json"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, done.stderr
        lines = [json.loads(line) for line in (done.stdout + done.stderr).splitlines()]
        assert all(line.keys() >= LOG_KEYS for line in lines)
        last = lines[-1]["message"]
        assert last.startswith("database at revision" if code == 0 else "cannot migrate the database")
