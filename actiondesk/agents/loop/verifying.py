"""Verification: after the last step, the signals must come back under their limit before the case is resolved."""

from __future__ import annotations

from datetime import timedelta

from pydantic import JsonValue

from actiondesk.agents.llm import LLM_RUNBOOK
from actiondesk.agents.loop.base import LoopBase
from actiondesk.agents.record import say
from actiondesk.agents.triage.reader import Reader
from actiondesk.agents.triage.signals import check_text, limit
from actiondesk.core.audit_payloads import CaseEscalated, CaseResolved, Verification
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.finding import Finding


class Verifying(LoopBase):
    """Checking the signals came back before the case is resolved."""

    def _verify(self, case: Case) -> Case:
        assert case.plan is not None
        verification = (
            self.llm.verification(case)
            if self.llm is not None and case.plan.runbook.startswith(LLM_RUNBOOK)
            else self.planner.verification(case.plan.runbook)
        )
        targets = _targets(case.finding)
        if verification not in ("error_rate", "signals") or not targets:
            return self._resolve(case, {"signal": "actions", "ok": True})
        deadline = self.clock.now() + timedelta(seconds=self.settings.verify_timeout_seconds)
        while True:
            self.clock.sleep(self.settings.verify_interval_seconds)  # let the signal reflect what was done
            reader = Reader(self.executor, case.id, minutes=5, step_seconds=self.triage.settings.step_seconds)
            checks: list[dict[str, JsonValue]] = []
            for service, signal, baseline in targets:
                reading = reader.reading(service, signal)
                current = reading.current if reading is not None else None
                bound = limit(signal, baseline)
                ok = current is not None and current <= bound
                checks.append(
                    {
                        "service": service,
                        "signal": signal,
                        "baseline": baseline,
                        "current": current,
                        "limit": bound,
                        "ok": ok,
                    }
                )
            ok = all(c["ok"] for c in checks)
            head = checks[0]
            listed: list[JsonValue] = list(checks)
            result: dict[str, JsonValue] = {
                "signal": head["signal"],
                "service": head["service"],
                "baseline": head["baseline"],
                "current": head["current"],
                "limit": head["limit"],
                "ok": ok,
                "checks": listed,
            }
            if ok:
                return self._resolve(case, result)
            if self.clock.now() >= deadline:
                bad = next(c for c in checks if not c["ok"])
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, self.clock.now()),
                    Verification.model_validate(result),
                    CaseEscalated(reason="signal did not return to baseline"),
                    say(f"{_check(bad)}; handing this to a human."),
                )

    def _resolve(self, case: Case, result: dict[str, JsonValue]) -> Case:
        text = "Verified: every step succeeded."
        checks = result.get("checks")
        if isinstance(checks, list) and checks:
            text = "Verified: " + "; ".join(_check(c) for c in checks if isinstance(c, dict)) + ". Resolved."
        return self.recorder.save(
            case.moved(CaseStatus.RESOLVED, self.clock.now()),
            Verification.model_validate(result),
            CaseResolved(runbook=case.plan.runbook if case.plan else None),
            say(text),
        )


def _targets(finding: Finding | None) -> list[tuple[str, str, float]]:
    """(service, signal, baseline) that must be back to normal: every link of the chain, else the finding's."""
    if finding is None:
        return []
    if finding.chain:  # restarts are a running total that never goes back down: pods ready again is the check
        return [
            (link.service, "unready", 0.0) if link.signal == "restarts" else (link.service, link.signal, link.baseline)
            for link in finding.chain
        ]
    if finding.service and finding.baseline is not None:
        return [(finding.service, finding.signal or "error_rate", finding.baseline)]
    return []


def _check(check: dict[str, JsonValue]) -> str:
    return check_text(check)
