"""Triage across the scenario suite: time and read-only probes per case, and whether the culprit found is the
expected one, for today's investigation (whole thread, topology, every signal and kind of change) against the
single-service rule ActionDesk had before (the service the first message names, its error rate, its deploys, its
logs), measured in the same run on the same estates through the same executor.

    python bench/triage.py
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs import builtin_packs, system_packs
from actiondesk.actions.packs.deployments import ListDeploymentsOutput
from actiondesk.actions.packs.telemetry import ErrorRateOutput
from actiondesk.actions.spec import ActionContext
from actiondesk.adapters.sandbox import MessageEvent, SandboxEstate, Scenario, load_scenario
from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.agents.intent import classify
from actiondesk.agents.triage import Triage, TriageSettings
from actiondesk.core.case import Case
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.estate import Service
from actiondesk.core.plan import ActionCall

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3


@dataclass(frozen=True)
class Outcome:
    seconds: float
    probes: int
    culprit: tuple[str, str] | None  # (service, change: commit or key or replicas)


class Counting(Executor):
    """The product's executor, counting the probes a triage pass runs."""

    probes = 0

    def probe(self, call: ActionCall, case_id: str | None):  # type: ignore[override]
        self.probes += 1
        return super().probe(call, case_id)


def _plain(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", text.lower())


def _find_service(text: str, services: list[Service]) -> Service | None:
    """The rule before: the longest name or alias the first message contains."""
    haystack = f" {_plain(text)} "
    best: tuple[int, Service] | None = None
    for service in services:
        for name in (service.name, *service.aliases):
            needle = _plain(name)
            if re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", haystack) and (
                best is None or len(needle) > best[0]
            ):
                best = (len(needle), service)
    return best[1] if best else None


def single_service(executor: Counting, estate: SandboxEstate, case: Case) -> tuple[str, str] | None:
    """Error-rate onset (5x the baseline and 2 points above it) ↔ a deploy of the named service in the 30 min
    before it; its logs read as evidence."""
    service = _find_service(case.text, estate.services())
    if service is None:
        return None
    rate = executor.probe(
        ActionCall(action="get_error_rate", params={"service": service.name, "minutes": 60, "step_seconds": 60}),
        case.id,
    )
    assert isinstance(rate, ErrorRateOutput)
    values = [p.value for p in rate.points]
    baseline = statistics.median(values[: max(3, len(values) // 3)])
    limit = max(baseline * 5, baseline + 0.02)
    onset = next(
        (p.at for i, p in enumerate(rate.points) if all(q.value > limit for q in rate.points[i : i + 2])), None
    )
    if onset is None:
        return None
    history = executor.probe(ActionCall(action="list_deployments", params={"service": service.name}), case.id)
    assert isinstance(history, ListDeploymentsOutput)
    executor.probe(
        ActionCall(action="get_logs", params={"service": service.name, "minutes": 60, "level": "ERROR"}), case.id
    )
    suspects = [d for d in history.deployments if onset - timedelta(minutes=30) <= d.deployed_at <= onset]
    return (service.name, suspects[0].commit) if suspects else None


def current(executor: Counting, triage: Triage, case: Case) -> tuple[str, str] | None:
    finding = triage.run(case)
    culprit = finding.culprit
    if culprit is None:
        return None
    detail = culprit.commit or culprit.key or str(culprit.replicas)
    return culprit.service, str(detail)


def expected(scenario: Scenario) -> tuple[str, str] | None:
    cause = scenario.expect.root_cause
    if cause is None:
        return None
    if cause.commit is not None:
        return cause.service, cause.commit
    assert cause.change is not None
    detail = cause.change.commit or cause.change.key or str(cause.change.replicas)
    return cause.service, str(detail)


def play(scenario: Scenario, folder: Path, rule: str) -> Outcome | None:
    """The scenario's world up to its first message, then one triage pass with ``rule``."""
    message = next((e for e in scenario.events if isinstance(e.payload, MessageEvent)), None)
    if message is None:
        return None
    url = f"sqlite:///{folder / f'{scenario.name}-{rule}.db'}"
    upgrade(url)
    store = SqlStore(make_engine(url))
    clock = SimulatedClock(scenario.start)
    estate = SandboxEstate(scenario.build_world(), clock)
    for event in scenario.prelude():
        clock.set(scenario.instant(event) or clock.now())
        estate.apply(event)
    clock.set(scenario.instant(message) or clock.now())
    catalog = Catalog([*builtin_packs(), *system_packs()])
    ctx = ActionContext(inventory=estate, telemetry=estate, deployer=estate, configurator=estate, clock=clock)
    executor = Counting(catalog, ctx, store, "actiondesk")
    payload = message.payload
    assert isinstance(payload, MessageEvent)
    now = clock.now()
    case = Case(
        id=f"C-{rule}",
        kind=classify(payload.text),
        title=payload.text[:80],
        text=payload.text,
        reporter=payload.user,
        created_at=now,
        updated_at=now,
    )
    with store.transaction() as uow:
        uow.add_case(case)
    triage = Triage(executor, estate, TriageSettings())
    run: Callable[[], tuple[str, str] | None] = (
        (lambda: current(executor, triage, case))
        if rule == "current"
        else (lambda: single_service(executor, estate, case))
    )
    started = time.perf_counter()
    culprit = run()
    return Outcome(time.perf_counter() - started, executor.probes, culprit)


def main() -> None:
    scenarios = [load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    totals: dict[str, list[Outcome]] = {"current": [], "single-service": []}
    right = {"current": 0, "single-service": 0}
    missed: dict[str, list[str]] = {"current": [], "single-service": []}
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in scenarios:
            for rule in totals:
                best: Outcome | None = None
                for i in range(ROUNDS):
                    folder = Path(tmp) / f"{rule}-{i}"
                    folder.mkdir(exist_ok=True)
                    outcome = play(scenario, folder, rule)
                    if outcome is not None and (best is None or outcome.seconds < best.seconds):
                        best = outcome
                if best is None:
                    continue
                totals[rule].append(best)
                if scenario.expect.checks_root_cause:
                    hit = best.culprit == expected(scenario)
                    right[rule] += hit
                    if not hit:
                        missed[rule].append(scenario.name)
            checked += scenario.expect.checks_root_cause
    cases = len(totals["current"])
    print(f"triage over {cases} scenario cases (best of {ROUNDS}); culprits checked against {checked} expectations")
    print(f"{'rule':<16} {'mean ms':>9} {'p95 ms':>9} {'probes/case':>12} {'right culprit':>14}")
    for rule, outcomes in totals.items():
        ms = sorted(o.seconds * 1000 for o in outcomes)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        probes = statistics.mean(o.probes for o in outcomes)
        print(f"{rule:<16} {statistics.mean(ms):>9.1f} {p95:>9.1f} {probes:>12.1f} {right[rule]:>8}/{checked}")
    now, then = totals["current"], totals["single-service"]
    time_ratio = statistics.mean(o.seconds for o in now) / statistics.mean(o.seconds for o in then)
    probe_ratio = statistics.mean(o.probes for o in now) / statistics.mean(o.probes for o in then)
    print(f"ratio current / single-service: time {time_ratio:.2f}x, probes {probe_ratio:.2f}x")
    for rule, names in missed.items():
        print(f"{rule} missed in one pass: {', '.join(names) or 'none'}")
    print("(one pass: a case that needs the reporter's answer or a watch over the coming minutes concludes later)")


if __name__ == "__main__":
    sys.exit(main())
