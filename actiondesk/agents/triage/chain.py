"""Topology: from a reported service, follow ``depends_on`` upstream to the anomalous service whose onset came
first. That service is where the trouble began; its callers' symptoms followed it. A tie goes to the service
further upstream (a caller cannot break what it calls), and a service whose trouble began after the reported
one's cannot be its cause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from actiondesk.agents.triage.reader import ALL_SIGNALS, ANOMALY_SIGNALS, Reader
from actiondesk.agents.triage.signals import Reading
from actiondesk.core.estate import Service
from actiondesk.core.finding import ChainLink


@dataclass
class Analysis:
    """What triage saw from one reported service."""

    reported: str
    symptoms: list[Reading]  # the reported service's anomalous signals, earliest first
    rising: list[Reading]  # abnormal at the last point but not yet sustained (an early report)
    anomalous: dict[str, list[Reading]] = field(default_factory=dict)  # upstream services off their baseline
    depth: dict[str, int] = field(default_factory=dict)  # hops from the reported service
    path: list[str] = field(default_factory=list)  # reported ... root, following depends_on
    quiet: list[str] = field(default_factory=list)  # upstream services read and found normal

    @property
    def root(self) -> str | None:
        return self.path[-1] if self.path else None

    def onset(self, service: str) -> datetime | None:
        readings = self.symptoms if service == self.reported else self.anomalous.get(service, [])
        return readings[0].onset if readings else None

    def first(self, service: str) -> Reading | None:
        readings = self.symptoms if service == self.reported else self.anomalous.get(service, [])
        return readings[0] if readings else None

    def links(self) -> tuple[ChainLink, ...]:
        out = []
        for name in self.path:
            reading = self.first(name)
            if reading is not None and reading.onset is not None:
                out.append(
                    ChainLink(
                        service=name,
                        signal=reading.signal,
                        onset=reading.onset,
                        baseline=reading.baseline,
                        peak=reading.peak,
                    )
                )
        return tuple(out)


def upstream(services: Sequence[Service], name: str) -> dict[str, tuple[int, str]]:
    """Every service ``name`` calls, directly or not: {service: (hops, the service that calls it)}."""
    by_name = {s.name: s for s in services}
    found: dict[str, tuple[int, str]] = {}
    frontier = [name]
    hops = 0
    while frontier:
        hops += 1
        following: list[str] = []
        for caller in frontier:
            for dep in by_name[caller].depends_on if caller in by_name else ():
                if dep != name and dep not in found and dep in by_name:
                    found[dep] = (hops, caller)
                    following.append(dep)
        frontier = following
    return found


def analyse(reader: Reader, services: Sequence[Service], reported: str, slack: timedelta) -> Analysis:
    """Read the reported service's signals, then its upstream services', and find where the trouble began.

    ``slack`` (one sampling step) lets an upstream onset count as first when it is seen at the same sample or
    one later than the reported service's: both were sampled, not timed to the second.
    """
    readings = reader.readings(reported, ALL_SIGNALS)
    symptoms = sorted((r for r in readings if r.onset is not None), key=lambda r: (r.onset, r.signal))
    rising = [r for r in readings if r.onset is None and r.rising]
    analysis = Analysis(reported=reported, symptoms=symptoms, rising=rising)
    if not symptoms:
        return analysis
    reported_onset = symptoms[0].onset
    assert reported_onset is not None
    callers = upstream(services, reported)
    for name, (hops, _) in sorted(callers.items(), key=lambda kv: kv[1][0]):
        found = reader.anomalies(name, ANOMALY_SIGNALS)
        onset = found[0].onset if found else None
        if onset is None or onset > reported_onset + slack:
            analysis.quiet.append(name)
            continue
        more = [r for r in reader.anomalies(name, ("cpu", "unready", "restarts")) if r.onset is not None]
        analysis.anomalous[name] = sorted([*found, *more], key=lambda r: (r.onset, r.signal))
        analysis.depth[name] = hops
    root = min(
        [reported, *analysis.anomalous],
        key=lambda s: (analysis.onset(s), -analysis.depth.get(s, 0)),
    )
    analysis.path = _path(services, callers, reported, root, set(analysis.anomalous))
    return analysis


def _path(
    services: Sequence[Service], callers: dict[str, tuple[int, str]], reported: str, root: str, anomalous: set[str]
) -> list[str]:
    """The way from the reported service to the root, through anomalous services where there is one."""
    by_name = {s.name: s for s in services}
    ways: list[list[str]] = [[reported]]
    while ways:
        way = ways.pop(0)
        if way[-1] == root:
            return way
        for dep in by_name[way[-1]].depends_on if way[-1] in by_name else ():
            if dep not in way and (dep == root or dep in anomalous):
                ways.append([*way, dep])
    path = [root]  # no anomalous way: the shortest one
    while path[-1] != reported:
        path.append(callers[path[-1]][1])
    return list(reversed(path))
