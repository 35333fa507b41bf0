"""Triage: which service, what its signals and the services it calls show, and which change (of any kind) came
just before the trouble began — or an honest "I can't tell yet", or a question back to the reporter.

The whole thread is read, newest message first, so a correction ("sorry, I meant search") or an answer to a
question decides. With no service named, triage looks estate-wide at what is off its baseline now: one chain
of trouble is investigated, anything else is asked about.

Why a chain of trouble began (the change, the evidence) is worked out in ``cause``; a service-desk staple's
live state is read in ``staple``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from actiondesk.actions.executor import Executor
from actiondesk.agents.staples import recognise
from actiondesk.agents.triage.cause import explain
from actiondesk.agents.triage.chain import Analysis, analyse
from actiondesk.agents.triage.naming import Namer
from actiondesk.agents.triage.reader import Reader
from actiondesk.agents.triage.staple import read_staple
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.estate import Service
from actiondesk.core.finding import Evidence, Finding, FindingKind
from actiondesk.core.ports import Inventory

log = logging.getLogger(__name__)


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
            return read_staple(self._executor, case, staple)
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
        findings = [explain(reader, a, self._settings.change_window_minutes) for a in troubled]
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
