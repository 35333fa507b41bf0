"""Triage: find the affected service, read its telemetry, and correlate the error onset with the changes
just before it — or abstain when nothing correlates."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.access import SessionOutput
from actiondesk.actions.packs.deployments import DeploymentRecord, ListDeploymentsOutput
from actiondesk.actions.packs.hosts import VolumeOutput
from actiondesk.actions.packs.telemetry import ErrorRateOutput, LogsOutput, SamplePoint
from actiondesk.agents.intent import find_service
from actiondesk.agents.staples import Staple, recognise
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.finding import Culprit, Evidence, Finding, FindingKind
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Inventory

log = logging.getLogger(__name__)

# An onset is a point this many times the baseline and at least this much above it in absolute terms.
ONSET_FACTOR = 5.0
ONSET_FLOOR = 0.02
FULL_PCT = 90.0  # a log volume this full warrants clearing (clear_log_volume's own drift check agrees)


@dataclass(frozen=True)
class TriageSettings:
    lookback_minutes: int = 60
    change_window_minutes: int = 30
    step_seconds: int = 60


def baseline_and_onset(points: tuple[SamplePoint, ...]) -> tuple[float, SamplePoint | None, float]:
    """(baseline, first point of a sustained rise or None, peak) of an error-rate series."""
    if not points:
        return 0.0, None, 0.0
    head = [p.value for p in points[: max(3, len(points) // 3)]]
    baseline = statistics.median(head)
    threshold = max(baseline * ONSET_FACTOR, baseline + ONSET_FLOOR)
    peak = max(p.value for p in points)
    for i, point in enumerate(points):
        if point.value > threshold and all(p.value > threshold for p in points[i : i + 2]):
            before = [p.value for p in points[:i]] or head
            return statistics.median(before[-30:]), point, peak
    return baseline, None, peak


def _suspects(deployments: tuple[DeploymentRecord, ...], onset: datetime, window: timedelta) -> list[int]:
    return [i for i, d in enumerate(deployments) if onset - window <= d.deployed_at <= onset]


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

    def run(self, case: Case) -> Finding:
        service = find_service(case.text, self._inventory.services())
        if case.service and service is None:
            service = self._inventory.service(case.service)
        staple = recognise(case.text, case.reporter, self._people()) if service is None else None
        if staple is not None:
            return self._staple(case, staple)
        if service is None:
            names = ", ".join(s.name for s in self._inventory.services())
            return Finding(
                kind=FindingKind.UNKNOWN_SERVICE,
                service=None,
                summary=f"I can't tell which service this is about. Known services: {names}.",
                confidence=0.0,
                abstained=True,
            )
        if case.kind is CaseKind.REQUEST:
            return Finding(
                kind=FindingKind.REQUEST,
                service=service.name,
                summary=f"Request concerning {service.name}.",
                confidence=1.0,
                abstained=False,
            )
        return self._incident(case, service.name)

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

    def _incident(self, case: Case, service: str) -> Finding:
        s = self._settings
        rate = self._executor.probe(
            ActionCall(
                action="get_error_rate",
                params={"service": service, "minutes": s.lookback_minutes, "step_seconds": s.step_seconds},
            ),
            case.id,
        )
        assert isinstance(rate, ErrorRateOutput)
        baseline, onset, peak = baseline_and_onset(rate.points)
        evidence = [
            Evidence(
                source="get_error_rate",
                summary=f"{service} error rate: baseline {baseline:.2%}, peak {peak:.2%}, now {rate.current:.2%}",
                data={
                    "baseline": baseline,
                    "peak": peak,
                    "current": rate.current,
                    "onset": onset.at.isoformat() if onset else None,
                },
            )
        ]
        if onset is None:
            return Finding(
                kind=FindingKind.NO_ANOMALY,
                service=service,
                confidence=0.0,
                abstained=True,
                baseline=baseline,
                peak=peak,
                evidence=tuple(evidence),
                summary=f"{service}'s error rate looks normal ({rate.current:.2%}); I can't tell what is wrong yet.",
            )
        history = self._executor.probe(ActionCall(action="list_deployments", params={"service": service}), case.id)
        assert isinstance(history, ListDeploymentsOutput)
        window = timedelta(minutes=s.change_window_minutes)
        suspects = _suspects(history.deployments, onset.at, window)
        logs = self._executor.probe(
            ActionCall(
                action="get_logs",
                params={"service": service, "minutes": s.lookback_minutes, "level": "ERROR", "limit": 20},
            ),
            case.id,
        )
        assert isinstance(logs, LogsOutput)
        if logs.lines:
            sample = logs.lines[-1]
            evidence.append(
                Evidence(
                    source="get_logs",
                    summary=f"{len(logs.lines)} recent ERROR lines, e.g. {sample.message[:160]}",
                    data={"trace_id": sample.trace_id, "version": sample.version, "errors": len(logs.lines)},
                )
            )
        if not suspects:
            evidence.append(
                Evidence(
                    source="list_deployments",
                    summary=f"no deployment of {service} in the {s.change_window_minutes} min before the onset",
                    data={"newest": history.deployments[0].version if history.deployments else None},
                )
            )
            return Finding(
                kind=FindingKind.UNEXPLAINED_ANOMALY,
                service=service,
                confidence=0.0,
                abstained=True,
                onset=onset.at,
                baseline=baseline,
                peak=peak,
                evidence=tuple(evidence),
                summary=(
                    f"{service}'s error rate rose from {baseline:.2%} to {peak:.2%} at "
                    f"{onset.at:%H:%M:%S} UTC, but no deployment preceded it. I can't tell the cause yet."
                ),
            )
        index = suspects[0]  # newest first: the change closest before the onset
        bad = history.deployments[index]
        previous = history.deployments[index + 1] if index + 1 < len(history.deployments) else None
        lead = onset.at - bad.deployed_at
        confidence = 0.9 if lead <= window / 3 else 0.75
        if logs.lines and all(line.version == bad.version for line in logs.lines):
            confidence = min(0.97, round(confidence + 0.05, 2))
        evidence.append(
            Evidence(
                source="list_deployments",
                summary=(
                    f"{service} {bad.version} (commit {bad.commit}) was deployed at {bad.deployed_at:%H:%M:%S} UTC, "
                    f"{int(lead.total_seconds())} s before the onset"
                ),
                data={
                    "version": bad.version,
                    "commit": bad.commit,
                    "deployed_at": bad.deployed_at.isoformat(),
                    "previous_version": previous.version if previous else None,
                },
            )
        )
        return Finding(
            kind=FindingKind.BAD_DEPLOY,
            service=service,
            confidence=confidence,
            abstained=False,
            onset=onset.at,
            baseline=baseline,
            peak=peak,
            evidence=tuple(evidence),
            culprit=Culprit(
                service=service,
                version=bad.version,
                commit=bad.commit,
                deployed_at=bad.deployed_at,
                previous_version=previous.version if previous else None,
                previous_commit=previous.commit if previous else None,
            ),
            summary=(
                f"{service}'s 5xx rate rose from {baseline:.2%} to {peak:.2%} at {onset.at:%H:%M:%S} UTC, "
                f"{int(lead.total_seconds())} s after {bad.version} (commit {bad.commit}) was deployed."
            ),
        )
