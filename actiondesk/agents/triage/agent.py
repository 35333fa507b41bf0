"""Triage: which service, what its signals and the services it calls show, and which change (of any kind) came
just before the trouble began — or an honest "I can't tell yet", or a question back to the reporter.

The whole thread is read, newest message first, so a correction ("sorry, I meant search") or an answer to a
question decides. With no service named, triage looks estate-wide at what is off its baseline now: one chain
of trouble is investigated, anything else is asked about.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.access import SessionOutput
from actiondesk.actions.packs.hosts import VolumeOutput
from actiondesk.agents.staples import Staple, recognise
from actiondesk.agents.triage.chain import Analysis, analyse
from actiondesk.agents.triage.culprit import confidence, culprit_of, suspects, undoing
from actiondesk.agents.triage.naming import Namer
from actiondesk.agents.triage.reader import Reader
from actiondesk.agents.triage.signals import LABELS, Reading
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.estate import Service
from actiondesk.core.finding import CHANGE_FINDINGS, ChainLink, Culprit, Evidence, Finding, FindingKind
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Inventory

log = logging.getLogger(__name__)


class _Observed(TypedDict):
    """What a finding about an anomalous chain says whatever its verdict."""

    service: str
    onset: datetime | None
    baseline: float | None
    peak: float | None
    signal: str | None
    chain: tuple[ChainLink, ...]


FULL_PCT = 90.0  # a log volume this full warrants clearing (clear_log_volume's own drift check agrees)
_UPSTREAM = re.compile(r"upstream ([a-z0-9][a-z0-9-]*) answered (\d{3})")


@dataclass(frozen=True)
class TriageSettings:
    lookback_minutes: int = 60
    change_window_minutes: int = 30
    step_seconds: int = 15


class Triage:
    def __init__(
        self,
        executor: Executor,
        inventory: Inventory,
        settings: TriageSettings,
        people: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        self._executor = executor
        self._inventory = inventory
        self._settings = settings
        self._people = people
        self.last_probes = 0  # probes the last pass ran (the bench reads it)

    @property
    def settings(self) -> TriageSettings:
        return self._settings

    def namer(self) -> Namer:
        return Namer(self._inventory.services())

    def services(self) -> list[Service]:
        return self._inventory.services()

    def run(self, case: Case, thread: Sequence[str] = (), *, asked: bool = False) -> Finding:
        """The finding for ``case``; ``thread`` is every human message of it, oldest first (default: its text).
        ``asked``: the reporter already answered a question of ours, so a service they name that looks fine is
        watched rather than asked about again."""
        texts = list(thread) or [case.text]
        services = self._inventory.services()
        said = Namer(services).resolve(texts)
        reader = Reader(
            self._executor, case.id, minutes=self._settings.lookback_minutes, step_seconds=self._settings.step_seconds
        )
        try:
            return self._run(case, texts, services, said.named, said.candidates, reader, asked)
        finally:
            self.last_probes = reader.probes

    def _run(
        self,
        case: Case,
        texts: list[str],
        services: list[Service],
        named: Sequence[str],
        candidates: Sequence[str],
        reader: Reader,
        asked: bool = False,
    ) -> Finding:
        known = {s.name for s in services}
        if not named and case.service in known:
            named = [case.service]  # an alert's service label
        if named:
            if case.kind is CaseKind.REQUEST:
                return Finding(
                    kind=FindingKind.REQUEST,
                    service=named[0],
                    summary=f"Request concerning {named[0]}.",
                    confidence=1.0,
                    abstained=False,
                )
            return self._investigate(reader, services, list(named), asked)
        staple = recognise(" ".join(texts), case.reporter, self._people())
        if staple is not None:
            return self._staple(case, staple)
        if case.kind is CaseKind.REQUEST:
            return Finding(
                kind=FindingKind.UNKNOWN_SERVICE,
                service=None,
                summary="I can't tell what this request is about.",
                confidence=0.0,
                abstained=True,
            )
        if candidates:
            return _ask(f"Which of these do you mean: {', '.join(candidates)}?", candidates)
        if case.kind is CaseKind.INCIDENT:
            return self._estate_wide(reader, services)
        return _ask("Which service is this about?", [s.name for s in services])

    # Finding the service when none is named

    def _estate_wide(self, reader: Reader, services: list[Service]) -> Finding:
        """Everything's error rate and latency now: one chain of trouble is investigated, else ask."""
        off = [s.name for s in services if reader.anomalies(s.name)]
        entries = _entries(services, off)
        unread = {s.name: why for s in services for why in reader.unreadable(s.name)[:1]}
        if not entries and unread:
            return _unreadable(unread, list(unread))
        if len(entries) == 1:
            return self._investigate(reader, services, entries)
        if entries:
            return _ask(
                f"Several services are off their baseline: {', '.join(entries)}. Which one are you seeing?",
                entries,
                evidence=_seen(reader, off),
            )
        return _ask(
            "I see no service off its baseline right now. Which service is it?",
            [s.name for s in services],
        )

    # Investigating named services

    def _investigate(self, reader: Reader, services: list[Service], named: list[str], asked: bool = False) -> Finding:
        slack = timedelta(seconds=self._settings.step_seconds)
        analyses = [analyse(reader, services, name, slack) for name in named]
        troubled = [a for a in analyses if a.symptoms]
        if not troubled:
            return self._quiet(reader, services, analyses, asked)
        findings = [self._explain(reader, a) for a in troubled]
        best = min(findings, key=lambda f: (f.culprit is None, -f.confidence))
        others = [f.summary for f in findings if f is not best]
        if others:
            best = best.model_copy(update={"summary": best.summary + " Also: " + " ".join(others)})
        return best.model_copy(update={"services": tuple(named)})

    def _quiet(self, reader: Reader, services: list[Service], analyses: list[Analysis], asked: bool) -> Finding:
        """The named services look normal: an early report (the loop may watch), or another service is off."""
        named = [a.reported for a in analyses]
        unread = {name: why for name in named for why in reader.unreadable(name)[:1]}
        if unread:
            return _unreadable(unread, named)
        off = [s.name for s in services if s.name not in named and reader.anomalies(s.name)]
        entries = _entries(services, off)
        looked = [r for a in analyses for r in reader.readings(a.reported, ("error_rate", "latency"))]
        evidence = [Evidence(source=r.rule.action, summary=r.described()) for r in looked]
        rising = [r for a in analyses for r in a.rising]
        if entries and not rising and not asked:
            return _ask(
                f"{', '.join(named)} looks normal, but {', '.join(entries)} is off its baseline. Which do you mean?",
                [*entries, *named],
                evidence=tuple(evidence) + _seen(reader, off),
            )
        what = " and ".join(named)
        elsewhere = f" ({', '.join(entries)} is off its baseline)" if entries else ""
        summary = f"{what} looks normal right now{elsewhere}; I can't tell what is wrong yet."
        if rising:
            summary = f"{rising[0].described()} and rising, not yet sustained; I can't confirm a problem yet."
        first = looked[0] if looked else None
        return Finding(
            kind=FindingKind.NO_ANOMALY,
            service=named[0],
            confidence=0.0,
            abstained=True,
            baseline=first.baseline if first else None,
            peak=first.peak if first else None,
            signal=first.signal if first else None,
            evidence=tuple(evidence),
            services=tuple(named),
            summary=summary,
        )

    def _explain(self, reader: Reader, analysis: Analysis) -> Finding:
        root = analysis.root
        assert root is not None
        first = analysis.first(root)
        assert first is not None
        assert first.onset is not None
        window = timedelta(minutes=self._settings.change_window_minutes)
        chain = analysis.links()
        evidence = [Evidence(source=r.rule.action, summary=r.described()) for r in _firsts(analysis)]
        evidence += self._pods(reader, analysis)
        history = reader.changes(root)
        seen = analysis.symptoms if root == analysis.reported else analysis.anomalous.get(root, [])
        found = suspects(history, first.onset, window, frozenset(r.signal for r in seen))
        corroborated, logs = self._logs(reader, analysis)
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
                    summary=f"no change to {root} in the {self._settings.change_window_minutes} min before its onset"
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

    def _pods(self, reader: Reader, analysis: Analysis) -> list[Evidence]:
        out = []
        for name in analysis.path:
            pods = reader.pods(name)
            if pods is not None and (pods.ready < pods.desired or pods.restarts):
                out.append(Evidence(source="get_pod_status", summary=pods.summary()))
        return out

    def _logs(self, reader: Reader, analysis: Analysis) -> tuple[Callable[[Culprit], bool], list[Evidence]]:
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

    # Service-desk staples

    def _staple(self, case: Case, staple: Staple) -> Finding:
        """Read the live state the staple is about; name it only when the state warrants its runbook."""
        kind, subject = staple.kind, staple.subject

        def abstain(why: str) -> Finding:
            return Finding(kind=kind, service=None, subject=subject, summary=why, confidence=0.0, abstained=True)

        if subject is None:
            return abstain("This sounds like a full log volume, but which host? Name it, like worker-1.")
        probe = {
            FindingKind.VPN_LOCKED: ("get_vpn_session", "user"),
            FindingKind.PASSWORD_RESET: ("get_account", "user"),
            FindingKind.DISK_FULL: ("get_log_volume", "host"),
        }[kind]
        try:
            seen = self._executor.probe(ActionCall(action=probe[0], params={probe[1]: subject}), case.id)
        except ActionDeskError as exc:
            return abstain(f"I could not read {subject}'s state: {exc}")
        evidence = (Evidence(source=probe[0], summary=seen.summary()),)
        if isinstance(seen, SessionOutput):
            if seen.status != "locked":
                return abstain(f"{subject}'s VPN session is {seen.status}, not locked; there is nothing to reset.")
            summary = f"{subject}'s VPN session is locked."
        elif isinstance(seen, VolumeOutput):
            if seen.volume.used_pct < FULL_PCT:
                return abstain(f"{seen.summary()}: not full, so I will not clear it.")
            summary = f"{seen.summary()}: it needs clearing."
        else:
            summary = f"{subject} asks for a password reset ({seen.summary()})."
        return Finding(
            kind=kind,
            service=None,
            subject=subject,
            summary=summary,
            confidence=0.95,
            abstained=False,
            evidence=evidence,
        )


def _ask(question: str, candidates: Sequence[str], evidence: tuple[Evidence, ...] = ()) -> Finding:
    return Finding(
        kind=FindingKind.UNKNOWN_SERVICE,
        service=None,
        summary=question,
        question=question,
        candidates=tuple(dict.fromkeys(candidates)),
        confidence=0.0,
        abstained=True,
        evidence=evidence,
    )


def _unreadable(unread: dict[str, str], named: list[str]) -> Finding:
    """The signals could not be read: missing evidence is no evidence of health, so no conclusion either way."""
    what = ", ".join(unread)
    first = next(iter(unread.values()))
    return Finding(
        kind=FindingKind.NO_EVIDENCE,
        service=named[0] if named else None,
        confidence=0.0,
        abstained=True,
        evidence=tuple(Evidence(source="get_error_rate", summary=f"{name}: {why}") for name, why in unread.items()),
        services=tuple(named),
        summary=f"I could not read the signals of {what} ({first}); without them I can't tell what is wrong, "
        "so a person should look.",
    )


def _entries(services: list[Service], off: list[str]) -> list[str]:
    """The anomalous services no other anomalous service calls: one per chain of trouble."""
    callers = {s.name: set(s.depends_on) for s in services}
    return [s for s in off if not any(s in callers.get(other, set()) for other in off if other != s)]


def _seen(reader: Reader, off: list[str]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(source=r.rule.action, summary=r.described()) for name in off for r in reader.anomalies(name)[:1]
    )


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
