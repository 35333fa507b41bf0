"""The deterministic check of a culprit someone else proposed (the model, as investigator): it is believed only
when a change to that service, or to a service it calls, came inside the change window before that service's
onset — and that onset is not later than the trouble reported. Nothing the model says is taken as a fact; the
finding is built from what the read-only probes return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from actiondesk.agents.triage.chain import upstream
from actiondesk.agents.triage.culprit import BLAMEABLE, confidence, culprit_of, plausible
from actiondesk.agents.triage.reader import ALL_SIGNALS, Reader
from actiondesk.agents.triage.signals import Reading
from actiondesk.core.estate import Service
from actiondesk.core.finding import CHANGE_FINDINGS, ChainLink, Evidence, Finding


@dataclass(frozen=True)
class Verdict:
    finding: Finding | None  # the confirmed finding, or None
    why: str  # why it was, or was not, believed


def confirm(
    reader: Reader,
    services: Sequence[Service],
    reported: Sequence[str],
    service: str,
    change_id: str,
    window: timedelta,
    slack: timedelta,
) -> Verdict:
    """Check ``change_id`` as the cause of ``service``'s trouble; ``reported`` are the services the thread names
    (or the anomalous ones when it names none)."""
    known = {s.name for s in services}
    if service not in known:
        return Verdict(None, f"there is no service {service!r}")
    around = [service, *upstream(services, service)]
    change = next((c for name in around for c in reader.changes(name) if c.id == change_id), None)
    if change is None:
        return Verdict(None, f"no change {change_id!r} was made to {service} or to a service it calls")
    if change.kind not in BLAMEABLE:
        return Verdict(None, f"{change.described()} is a {change.kind}, not a change that can cause trouble")
    readings = reader.anomalies(service, ALL_SIGNALS)
    if not readings:
        return Verdict(None, f"{service} shows no onset in its signals: nothing to blame a change for")
    first: Reading = readings[0]
    assert first.onset is not None
    onset = first.onset
    if not onset - window <= change.at <= onset:
        gap = int((onset - change.at).total_seconds())
        when = f"{gap} s before" if gap >= 0 else f"{-gap} s after"
        return Verdict(
            None,
            f"{change.described()} was made {when} {service}'s onset at {onset:%H:%M:%S} UTC, "
            f"outside the {int(window.total_seconds() // 60)} min before it",
        )
    if not plausible(change, frozenset(r.signal for r in readings)):
        return Verdict(None, f"{change.described()} cannot explain {service}'s {first.signal} onset")
    symptoms = [r for name in reported if name != service for r in reader.anomalies(name, ALL_SIGNALS)[:1]]
    later = [r for r in symptoms if r.onset is not None and r.onset + slack < onset]
    if later:
        return Verdict(
            None,
            f"{service}'s onset at {onset:%H:%M:%S} UTC came after {later[0].service}'s at "
            f"{later[0].onset:%H:%M:%S} UTC: it cannot be the cause of what was reported",
        )
    culprit = culprit_of(change)
    lead = onset - change.at
    links = [
        ChainLink(service=r.service, signal=r.signal, onset=r.onset, baseline=r.baseline, peak=r.peak)
        for r in [*symptoms, first]
        if r.onset is not None
    ]
    why = (
        f"{change.described()} was made {int(lead.total_seconds())} s before {service}'s onset at "
        f"{onset:%H:%M:%S} UTC ({first.described()})"
    )
    finding = Finding(
        kind=CHANGE_FINDINGS[change.kind],
        service=change.service,
        confidence=confidence(lead, window, hops=1, rivals=0, corroborated=False),
        abstained=False,
        culprit=culprit,
        onset=onset,
        baseline=first.baseline,
        peak=first.peak,
        signal=first.signal,
        chain=tuple(links),
        services=tuple(reported) or (service,),
        evidence=(
            Evidence(source=first.rule.action, summary=first.described()),
            Evidence(source="list_changes", summary=why),
        ),
        summary=f"Confirmed: {why}.",
    )
    return Verdict(finding, why)
