"""Explaining an anomalous chain: how its trouble spread, the change made just before its onset, and the
evidence (pods, log lines, a trace) that corroborates it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypedDict

from actiondesk.agents.triage.chain import Analysis
from actiondesk.agents.triage.culprit import confidence, culprit_of, suspects, undoing
from actiondesk.agents.triage.reader import Reader
from actiondesk.agents.triage.signals import LABELS, Reading
from actiondesk.core.finding import CHANGE_FINDINGS, ChainLink, Culprit, Evidence, Finding, FindingKind


class _Observed(TypedDict):
    """What a finding about an anomalous chain says whatever its verdict."""

    service: str
    onset: datetime | None
    baseline: float | None
    peak: float | None
    signal: str | None
    chain: tuple[ChainLink, ...]


_UPSTREAM = re.compile(r"upstream ([a-z0-9][a-z0-9-]*) answered (\d{3})")


def explain(reader: Reader, analysis: Analysis, window_minutes: int) -> Finding:
    """The finding about an anomalous chain: its story, and the change (of any kind) made just before its onset,
    with how sure that makes us; or why no change can be named."""
    root = analysis.root
    assert root is not None
    first = analysis.first(root)
    assert first is not None
    assert first.onset is not None
    window = timedelta(minutes=window_minutes)
    chain = analysis.links()
    evidence = [Evidence(source=r.rule.action, summary=r.described()) for r in _firsts(analysis)]
    evidence += pod_evidence(reader, analysis)
    history = reader.changes(root)
    seen = analysis.symptoms if root == analysis.reported else analysis.anomalous.get(root, [])
    found = suspects(history, first.onset, window, frozenset(r.signal for r in seen))
    corroborated, logs = log_evidence(reader, analysis)
    evidence += logs
    common: _Observed = {
        "service": root,
        "onset": first.onset,
        "baseline": first.baseline,
        "peak": first.peak,
        "signal": first.signal,
        "chain": chain,
    }
    unread = reader.unreadable(root, ("list_changes",))
    if not found and unread:
        evidence.append(Evidence(source="list_changes", summary=f"{root}'s changes could not be read: {unread[0]}"))
        return Finding(
            kind=FindingKind.UNEXPLAINED_ANOMALY,
            confidence=0.0,
            abstained=True,
            evidence=tuple(evidence),
            summary=f"{_story(analysis)}, but I could not read {root}'s changes ({unread[0]}). "
            "I can't tell the cause without them.",
            **common,
        )
    if not found:
        newest = max((c for c in history if c.at <= first.onset), key=lambda c: c.at, default=None)
        evidence.append(
            Evidence(
                source="list_changes",
                summary=f"no change to {root} in the {window_minutes} min before its onset"
                + (f"; the newest was {newest.described()} at {newest.at:%Y-%m-%d %H:%M} UTC" if newest else ""),
            )
        )
        return Finding(
            kind=FindingKind.UNEXPLAINED_ANOMALY,
            confidence=0.0,
            abstained=True,
            evidence=tuple(evidence),
            summary=f"{_story(analysis)}, but no change to {root} preceded it. I can't tell the cause yet.",
            **common,
        )
    change = found[0]
    undone = undoing(change, history)
    if undone is not None:  # already reverted: nothing to fix again, the signals should be recovering
        return Finding(
            kind=FindingKind.NO_ANOMALY,
            confidence=0.0,
            abstained=True,
            evidence=(*evidence, Evidence(source="list_changes", summary=f"{undone.described()} since")),
            summary=f"{_story(analysis)}, after {change.described()}; {undone.described()} undid it at "
            f"{undone.at:%H:%M:%S} UTC, so I am watching for the signals to come back.",
            services=(analysis.reported,),
            **common,
        )
    culprit = culprit_of(change)
    lead = first.onset - change.at
    evidence.append(
        Evidence(
            source="list_changes",
            summary=f"{change.described()} was made at {change.at:%H:%M:%S} UTC by {change.author or 'someone'}, "
            f"{int(lead.total_seconds())} s before {root}'s onset"
            + (f"; {len(found) - 1} other change(s) in the window" if len(found) > 1 else ""),
            data={"change_id": change.id, "kind": change.kind, "at": change.at.isoformat()},
        )
    )
    sure = confidence(
        lead, window, hops=len(analysis.path) - 1, rivals=len(found) - 1, corroborated=corroborated(culprit)
    )
    return Finding(
        kind=CHANGE_FINDINGS[change.kind],
        confidence=sure,
        abstained=False,
        evidence=tuple(evidence),
        culprit=culprit,
        summary=f"{_story(analysis)}; {culprit.described()} was {_made(culprit)} "
        f"{int(lead.total_seconds())} s before {root}'s onset.",
        **common,
    )


def pod_evidence(reader: Reader, analysis: Analysis) -> list[Evidence]:
    """The pods along the chain that are not all ready or have restarted."""
    out = []
    for name in analysis.path:
        pods = reader.pods(name)
        if pods is not None and (pods.ready < pods.desired or pods.restarts):
            out.append(Evidence(source="get_pod_status", summary=pods.summary()))
    return out


def log_evidence(reader: Reader, analysis: Analysis) -> tuple[Callable[[Culprit], bool], list[Evidence]]:
    """Error (or slow-request) lines of the reported service and the trace of the newest one: lines naming
    the root upstream, or its new version, corroborate the finding."""
    level = "ERROR" if any(r.signal == "error_rate" for r in analysis.symptoms) else "WARN"
    logs = reader.logs(analysis.reported, level)
    lines = list(logs.lines) if logs is not None else []
    evidence: list[Evidence] = []
    if not lines:
        return (lambda _c: False), evidence
    sample = lines[-1]
    evidence.append(
        Evidence(
            source="get_logs",
            summary=f"{len(lines)} recent {level} lines of {analysis.reported}, e.g. {sample.message[:160]}",
            data={"trace_id": sample.trace_id, "version": sample.version, "lines": len(lines)},
        )
    )
    trace = reader.trace(sample.trace_id)
    hops = list(trace.lines) if trace is not None else []
    named = {m.group(1) for line in [*lines, *hops] for m in [_UPSTREAM.search(line.message)] if m}
    if trace is not None and hops:
        path = " → ".join(f"{ln.service} {ln.message.split(' -> ')[-1][:60]}" for ln in hops)
        evidence.append(Evidence(source="get_trace", summary=f"trace {sample.trace_id[:12]}: {path}"))
    if named:
        evidence.append(
            Evidence(
                source="get_logs",
                summary=f"{analysis.reported}'s errors name upstream {', '.join(sorted(named))}",
            )
        )
    versions = {ln.version for ln in [*lines, *hops] if ln.service == analysis.root}

    def agrees(culprit: Culprit) -> bool:
        if culprit.service != analysis.reported and culprit.service in named:
            return True
        return culprit.kind == "deploy" and versions == {culprit.version}

    return agrees, evidence


def _firsts(analysis: Analysis) -> list[Reading]:
    return [r for r in (analysis.first(s) for s in analysis.path) if r is not None]


def _made(culprit: Culprit) -> str:
    return {"deploy": "deployed", "rollback": "made", "scale": "made"}.get(culprit.kind, "set")


def _story(analysis: Analysis) -> str:
    """``checkout's 5xx rate followed shipping's by 15 s`` / ``payment-gateway's 5xx rate rose from 0.40% to 35%
    at 09:01:00 UTC``."""
    root = analysis.root
    first = analysis.first(root) if root else None
    assert root is not None
    assert first is not None
    assert first.onset is not None
    head = _rose(first)
    if root == analysis.reported:
        return head
    steps = []
    for caller, callee in zip(analysis.path, analysis.path[1:], strict=False):
        a, b = analysis.first(caller), analysis.first(callee)
        if a is not None and b is not None and a.onset is not None and b.onset is not None:
            gap = int((a.onset - b.onset).total_seconds())
            steps.append(f"{caller}'s {LABELS[a.signal]} followed {callee}'s by {gap} s")
    return "; ".join(steps) + f"; {head}"


def _rose(reading: Reading) -> str:
    rule = reading.rule
    assert reading.onset is not None
    return (
        f"{reading.service}'s {LABELS[reading.signal]} rose from {rule.shown(reading.baseline)} to "
        f"{rule.shown(reading.peak)} at {reading.onset:%H:%M:%S} UTC"
    )
