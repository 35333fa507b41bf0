"""Log lines of the sandbox, generated on demand and the same every time they are asked for.

Every ``BUCKET_SECONDS`` each entry service (one nothing depends on: checkout, search) receives
``REQUESTS_PER_BUCKET`` requests. A request walks down the dependency graph; each service it reaches logs
one line with the request's trace id, so one trace can be followed across services. A service fails a
request with the probability its active error_rate / crash_loop / image_pull faults give (every request when
it is scaled to zero), and its callers log an upstream 502 for it. Trace ids are 32 hex digits whose first 8
are the bucket's epoch seconds (as AWS X-Ray does), so a trace is found without scanning the window.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from actiondesk.adapters.sandbox.index import index
from actiondesk.adapters.sandbox.signals import added_latency_ms
from actiondesk.adapters.sandbox.timeline import (
    active_faults,
    dependencies,
    digest,
    live_version,
    origins,
    replicas_at,
    service_record,
)
from actiondesk.adapters.sandbox.world import EstateState, FaultKind
from actiondesk.core.estate import LogLine

BUCKET_SECONDS = 10
REQUESTS_PER_BUCKET = 3
MAX_BUCKETS = 8_640  # at most 24 hours of buckets are generated for one query
MAX_LINES = 1_000
BUCKETS_KEPT = 720  # generated buckets kept per state (two hours of them); past it they are generated again
_ERRORS = frozenset({FaultKind.ERROR_RATE})
_CRASHES = frozenset({FaultKind.CRASH_LOOP})
_PULLS = frozenset({FaultKind.IMAGE_PULL})


@dataclass(frozen=True, slots=True)
class _Profile:
    route: str
    error: str


_PROFILES: dict[str, _Profile] = {
    "payment-gateway": _Profile("POST /v1/charges", "PaymentRouterError: no acquirer route for merchant account"),
    "orders-db": _Profile("query orders.insert_order", "DeadlockDetected: deadlock detected waiting for ShareLock"),
    "checkout": _Profile("POST /api/checkout", "CheckoutError: order total does not match cart"),
    "search": _Profile("GET /v2/search", "SearchIndexError: shard products-3 is unavailable"),
}


def _profile(service: str) -> _Profile:
    return _PROFILES.get(service, _Profile(f"GET /api/{service}", "InternalServerError: unhandled exception"))


def trace_id(bucket: datetime, *parts: object) -> str:
    return f"{int(bucket.timestamp()):08x}{digest('trace', *parts, bucket.timestamp())[:24]}"


def bucket_of_trace(trace: str) -> datetime | None:
    if len(trace) != 32 or any(c not in "0123456789abcdef" for c in trace):
        return None
    seconds = int(trace[:8], 16)
    return datetime.fromtimestamp(seconds, UTC) if seconds % BUCKET_SECONDS == 0 else None


@dataclass(frozen=True, slots=True)
class _Hop:
    code: int
    ms: float


@dataclass(frozen=True, slots=True)
class _Condition:
    """What a service's faults do to its requests during one bucket."""

    errors: float  # share answered 500 (error_rate faults)
    crash: float  # further share answered 503 (crash_loop faults)
    down: float  # further share answered 503 because no pod can serve (image_pull faults, zero replicas)
    down_text: str
    added_ms: float
    version: str

    @property
    def failing(self) -> float:
        return self.errors + self.crash + self.down


class _Bucket:
    """The lines of every service during one bucket."""

    def __init__(self, state: EstateState, at: datetime, changes: list[datetime]) -> None:
        """``changes``: Index.moments of ``state``."""
        self.state = state
        self.at = at
        self.lines: list[LogLine] = []
        self._index = index(state)
        self._records = self._index.records
        # Conditions only change at a deployment or a fault's start or end. Without one inside the bucket,
        # its start speaks for all of it; with one, each request is judged at its own instant.
        after = bisect_right(changes, at)
        self._exact = after < len(changes) and changes[after] < at + timedelta(seconds=BUCKET_SECONDS)

    def can_log(self, service: str, callees: list[str], level: str | None) -> bool:
        """Whether this bucket can hold a ``level`` line of ``service``, without generating it."""
        if level is None or level == "INFO" or (self._exact and level in {"WARN", "ERROR"}):
            return True
        if level == "WARN":
            cond = self._condition(service)
            return cond.crash > 0 or cond.added_ms > 0
        if level == "ERROR":
            return any(self._condition(s).failing > 0 for s in (service, *callees))
        return False

    def generate(self, entry_services: list[str]) -> list[LogLine]:
        for origin in entry_services:
            for i in range(REQUESTS_PER_BUCKET):
                trace = trace_id(self.at, origin, i)
                offset = timedelta(milliseconds=int(int(trace[8:16], 16) / 16**8 * BUCKET_SECONDS * 1000))
                self._visit(origin, trace, self.at + offset, frozenset({origin}))
        self._crash_notices()
        return self.lines

    def _condition(self, service: str, at: datetime | None = None) -> _Condition:
        at = at if at is not None and self._exact else self.at
        return self._index.remembered(("condition", service, at), lambda: _condition(self.state, service, at))

    def _visit(self, service: str, trace: str, at: datetime, path: frozenset[str]) -> _Hop:
        record = self._records[service]
        upstream: tuple[str, int] | None = None
        child_ms = 0.0
        for dep in (*record.depends_on, *record.calls):
            if dep in path or dep not in self._records:
                continue
            hop = self._visit(dep, trace, at, path | {dep})
            child_ms += hop.ms
            if hop.code >= 500 and upstream is None:
                upstream = (dep, hop.code)
        cond = self._condition(service, at)
        rolls = digest("request", trace, service)
        roll, spread = int(rolls[:13], 16) / 16**13, int(rolls[13:26], 16) / 16**13
        ms = record.baseline_latency_ms * (0.2 + 0.4 * spread) + cond.added_ms + child_ms
        route, version = _profile(service).route, cond.version
        if roll < cond.errors:
            code, level, text = 500, "ERROR", f"{route} -> 500 {_profile(service).error} (version {version})"
        elif roll < cond.errors + cond.crash:
            code, level = 503, "ERROR"
            text = f"{route} -> 503 no ready pod: container in CrashLoopBackOff (version {version})"
        elif roll < cond.failing:
            code, level = 503, "ERROR"
            text = f"{route} -> 503 {cond.down_text} (version {version})"
        elif upstream is not None:
            code, level = 502, "ERROR"
            text = f"{route} -> 502 upstream {upstream[0]} answered {upstream[1]} (version {version})"
        elif cond.added_ms > 0 and ms > 2 * record.baseline_latency_ms:
            code, level, text = 200, "WARN", f"{route} -> 200 in {round(ms)}ms (slow)"
        else:
            code, level, text = 200, "INFO", f"{route} -> 200 in {round(ms)}ms"
        self.lines.append(LogLine(at=at, service=service, level=level, message=text, trace_id=trace, version=version))
        return _Hop(code, ms)

    def _crash_notices(self) -> None:
        names = [s.name for s in self.state.services]
        for fault in active_faults(self.state, names, _CRASHES, self.at):
            service = fault.service or ""
            pod = f"{service}-{digest('pod', service)[:5]}-{digest('pod', service, self.at.timestamp())[:5]}"
            self.lines.append(
                LogLine(
                    at=self.at,
                    service=service,
                    level="WARN",
                    trace_id=trace_id(self.at, "kubelet", service),
                    message=f"Back-off restarting failed container {service} in pod {pod} (exit code 137)",
                    version=self._condition(service).version,
                )
            )


def _condition(state: EstateState, service: str, at: datetime) -> _Condition:
    version = live_version(state, service, at)
    pulls = sum(f.value for f in active_faults(state, (service,), _PULLS, at))
    down_text = f"ImagePullBackOff: cannot pull image registry.example.com/{service}:{version}"
    if replicas_at(state, service, at) == 0:
        pulls, down_text = 1.0, f"no endpoints available: {service} is scaled to 0 replicas"
    return _Condition(
        errors=sum(f.value for f in active_faults(state, (service,), _ERRORS, at)),
        crash=sum(f.value for f in active_faults(state, (service,), _CRASHES, at)),
        down=pulls,
        down_text=down_text,
        added_ms=added_latency_ms(state, service, at),
        version=version,
    )


def _lines(state: EstateState, bucket: datetime, changes: list[datetime]) -> tuple[LogLine, ...]:
    """Every line of the bucket: the requests from every entry service (a service's own lines are the same
    whichever other entries are walked: each walk has its own trace ids), and the crash notices."""
    kept = index(state).buckets
    lines = kept.get(bucket)
    if lines is None:
        lines = tuple(_Bucket(state, bucket, changes).generate(origins(state)))
        if len(kept) >= BUCKETS_KEPT:
            kept.clear()
        kept[bucket] = lines
    return lines


def _floor(at: datetime) -> datetime:
    seconds = int(at.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return datetime.fromtimestamp(seconds, UTC)


def _wanted(line: LogLine, service: str, start: datetime, end: datetime, trace: str | None, level: str | None) -> bool:
    return (
        line.service == service
        and start <= line.at <= end
        and (trace is None or line.trace_id == trace)
        and (level is None or line.level == level)
    )


def generate_logs(
    state: EstateState,
    service: str,
    start: datetime,
    end: datetime,
    *,
    trace: str | None = None,
    level: str | None = None,
    limit: int = 50,
) -> list[LogLine]:
    """Lines of ``service`` in [start, end], oldest first, the newest ``limit`` (at most ``MAX_LINES``)."""
    service_record(state, service)
    limit = min(limit, MAX_LINES)
    wanted_level = None if level is None else ("WARN" if level.upper() == "WARNING" else level.upper())
    if limit <= 0 or end < start:
        return []
    callees = dependencies(state, service)
    changes = index(state).moments  # every instant at which something takes effect, in order
    if trace is not None:
        bucket = bucket_of_trace(trace.lower())
        buckets = [bucket] if bucket is not None and _floor(start) <= bucket <= end else []
    else:
        first, last = _floor(start), _floor(end)
        count = min(MAX_BUCKETS, int((last - first).total_seconds()) // BUCKET_SECONDS + 1)
        buckets = [last - timedelta(seconds=BUCKET_SECONDS * i) for i in range(count)]
    found: list[LogLine] = []
    for bucket in buckets:  # newest first, so a large window stops as soon as it has enough
        if not _Bucket(state, bucket, changes).can_log(service, callees, wanted_level):
            continue
        lines = _lines(state, bucket, changes)
        found.extend(ln for ln in lines if _wanted(ln, service, start, end, trace and trace.lower(), wanted_level))
        if len(found) >= limit:
            break
    found.sort(key=lambda ln: (ln.at, ln.trace_id))
    return found[-limit:]
