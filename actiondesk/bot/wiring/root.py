"""The composition root: the one place that builds adapters and wires them into the ports."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from actiondesk.actions.catalog import Catalog
from actiondesk.actions.executor import Executor
from actiondesk.actions.packs import builtin_packs
from actiondesk.adapters.directory import YamlDirectory
from actiondesk.adapters.openai import OpenAIChatModel
from actiondesk.adapters.sandbox import SandboxEstate
from actiondesk.adapters.store import SqlStore, StoreBlobs, StoreReports
from actiondesk.agents.approvals import ApprovalDesk, ApprovalSettings
from actiondesk.agents.breaker import CircuitBreaker
from actiondesk.agents.changes import ChangeDesk
from actiondesk.agents.controls import Controls
from actiondesk.agents.desk import FrontDesk
from actiondesk.agents.fulfilment import FulfilmentDesk, RoleCatalog
from actiondesk.agents.governance import Governance, PolicyData, PolicyStore, Window
from actiondesk.agents.governance.calendars import Calendars, sources
from actiondesk.agents.llm import LlmBounds, LlmPlanner
from actiondesk.agents.llm.investigator import Investigator
from actiondesk.agents.loop import CaseLoop, LoopSettings, new_id
from actiondesk.agents.ownership import OwnerBook, TakeOver
from actiondesk.agents.planner import RunbookPlanner, builtin_runbook_paths
from actiondesk.agents.postmortem.summary import SummaryWriter
from actiondesk.agents.questions import QuestionDesk
from actiondesk.agents.record import Notify, Recorder
from actiondesk.agents.rollback import RollbackDesk
from actiondesk.agents.triage import Triage, TriageSettings
from actiondesk.bot.wiring.boot import steady_estate
from actiondesk.bot.wiring.live import World, build_world
from actiondesk.bot.wiring.stores import open_store as open_store  # re-exported: callers that build a runtime
from actiondesk.bot.wiring.systems import build_systems
from actiondesk.bot.wiring.tickets import pagers, ticket_mirror, ticket_systems
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.llm import Price
from actiondesk.core.ports import ChangeIntake, Clock, Directory, Inventory, Pager, Reporting, StateBlobs, TicketSystem
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything the server, its jobs and the command line are built from, once. Surfaces never get the runtime
    itself, nor the store: they get ``front``, the facade over the case loop, the approval desk and the commands,
    and the narrow ports built beside it here (``reports``, ``changes``, ``blobs``)."""

    settings: Settings
    store: SqlStore
    estate: SandboxEstate  # the sandbox: the whole estate by default, staples and fulfilment beside a live one
    clock: Clock
    catalog: Catalog
    executor: Executor
    governance: Governance
    rollbacks: RollbackDesk
    loop: CaseLoop
    approvals: ApprovalDesk
    questions: QuestionDesk
    directory: Directory
    controls: Controls
    fulfilment: FulfilmentDesk
    tickets: dict[str, TicketSystem] = field(default_factory=dict)  # the ITSMs cases are mirrored into
    pagers: dict[str, Pager] = field(default_factory=dict)  # where hand-offs of incidents page on-call
    takeover: TakeOver | None = None  # owners, hand-offs, pick-ups, notices of lone actions, post-mortems
    summaries: SummaryWriter | None = None  # a model's paragraph for each post-mortem, when a model is configured
    world: World | None = None  # the services, signals, changes and fixes the agents use (ACTIONDESK_ESTATE)
    front: FrontDesk = field(init=False)  # what the surfaces get: the one door to cases, approvals and commands
    reports: Reporting = field(init=False)  # the dashboard's, /metrics' and status replies' reads, nothing written
    changes: ChangeIntake = field(init=False)  # where the webhooks' change events go
    blobs: StateBlobs = field(init=False)  # where the chat surfaces keep what they posted where

    def __post_init__(self) -> None:
        self.reports = StoreReports(self.store)
        self.changes = ChangeDesk(self.store, self.world.inventory if self.world else self.estate, self.clock)
        self.blobs = StoreBlobs(self.store)
        self.front = FrontDesk(
            store=self.store,
            clock=self.clock,
            loop=self.loop,
            approvals=self.approvals,
            questions=self.questions,
            rollbacks=self.rollbacks,
            fulfilment=self.fulfilment,
            controls=self.controls,
            directory=self.directory,
            takeover=self.takeover,
        )


def runbook_paths(settings: Settings) -> list[Path]:
    paths = builtin_runbook_paths()
    if settings.runbook_dir is not None:
        paths += sorted(settings.runbook_dir.glob("*.yaml"))
    return paths


def build_runtime(
    settings: Settings,
    store: SqlStore,
    estate: SandboxEstate,
    clock: Clock,
    policy: PolicyData,
    *,
    notify: Notify | None = None,
    ids: Callable[[str], str] = new_id,
    console_url: str | None = None,
) -> Runtime:
    """``console_url``: where people open the console, for the links in pages and messages (``serve`` passes the
    public URL in effect: ACTIONDESK_PUBLIC_URL, else the loopback address it bound); else ACTIONDESK_PUBLIC_URL."""
    console_url = console_url or settings.public_url
    directory: Directory = estate
    if settings.directory_file is not None:
        directory = YamlDirectory.from_file(settings.directory_file)
    systems = build_systems(settings, estate, store, clock)
    world = build_world(settings, estate, store, clock, systems)
    catalog = Catalog([*builtin_packs(), *systems.packs], settings.granted_scopes)
    ctx = systems.context(world.inventory, world.telemetry, world.deployer, world.configurator, clock)
    executor = Executor(catalog, ctx, store, settings.agent_identity)
    paging = pagers(settings, console_url)
    takeover = TakeOver(
        OwnerBook.from_file(settings.owners_file, world.inventory),
        directory,
        store,
        clock,
        agent=settings.agent_identity,
        pagers=list(paging),
        public_url=console_url,
    )
    recorder = Recorder(store, clock, settings.agent_identity, notify, mirror=ticket_mirror(settings), hook=takeover)
    controls = Controls(store, clock, settings.agent_identity, directory=directory)
    roles = RoleCatalog.load(settings.roles_file)
    policy = replace(policy, privileged_groups={**roles.privileged_groups(), **policy.privileged_groups})
    governance = build_governance(settings, store, clock, catalog, world.inventory, policy, controls)
    fulfilment = FulfilmentDesk(store, catalog, executor, recorder, roles, directory, clock)
    triage = Triage(
        executor,
        world.inventory,
        TriageSettings(
            lookback_minutes=settings.triage_lookback_minutes,
            change_window_minutes=settings.change_window_minutes,
            step_seconds=settings.triage_step_seconds,
        ),
        people=lambda: frozenset(p.name for p in directory.people()),
    )
    llm = build_llm_planner(settings, executor, clock)
    loop = CaseLoop(
        recorder,
        executor,
        triage,
        RunbookPlanner.from_paths(runbook_paths(settings)),
        governance,
        LoopSettings(
            max_steps=settings.max_steps,
            verify_timeout_seconds=settings.verify_timeout_seconds,
            verify_interval_seconds=settings.verify_interval_seconds,
            lease_seconds=settings.lease_seconds,
            clarify_timeout_seconds=settings.clarify_timeout_seconds,
            watch_seconds=settings.triage_watch_seconds,
            watch_step_seconds=settings.triage_step_seconds,
        ),
        owner=f"{socket.gethostname()}:{os.getpid()}",
        ids=ids,
        llm=llm,
        planning=settings.planning,
        investigator=None if llm is None else build_investigator(settings, llm),
        intake=fulfilment.intake,
        steady=steady_estate,
    )
    fulfilment.bind(loop.open_case)
    return Runtime(
        settings=settings,
        store=store,
        estate=estate,
        clock=clock,
        catalog=catalog,
        executor=executor,
        governance=governance,
        rollbacks=RollbackDesk(store, catalog, loop),
        loop=loop,
        approvals=ApprovalDesk(recorder, directory, approval_settings(settings)),
        questions=QuestionDesk(loop),
        directory=directory,
        controls=controls,
        fulfilment=fulfilment,
        tickets=ticket_systems(settings),
        pagers=paging,
        takeover=takeover,
        summaries=build_summaries(settings, recorder, clock),
        world=world,
    )


def chat_model(settings: Settings, clock: Clock) -> OpenAIChatModel | None:
    """The configured OpenAI-compatible model (OPENAI_API_KEY or OPENAI_BASE_URL), or None."""
    if settings.openai_api_key is None and settings.openai_base_url is None:
        return None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else "unused"
    return OpenAIChatModel(
        model=settings.llm_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout_seconds=settings.llm_timeout_seconds,
        clock=clock,
    )


def build_summaries(settings: Settings, recorder: Recorder, clock: Clock) -> SummaryWriter | None:
    model = chat_model(settings, clock)
    return SummaryWriter(model, recorder) if model is not None else None


def build_llm_planner(settings: Settings, executor: Executor, clock: Clock) -> LlmPlanner | None:
    """The model planner when ACTIONDESK_PLANNER (or a configured key) asks for one; None: runbooks only."""
    if settings.planning == "runbook":
        return None
    model = chat_model(settings, clock)
    if model is None:
        raise ConfigurationError(
            f"ACTIONDESK_PLANNER={settings.planning} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a keyless endpoint)"
        )
    try:
        prices = {name: Price.model_validate(price) for name, price in settings.llm_prices.items()}
    except ValueError as exc:
        raise ConfigurationError(f"ACTIONDESK_LLM_PRICES: {exc}") from None
    bounds = LlmBounds(
        max_turns=settings.llm_max_turns, max_tokens=settings.llm_max_tokens, max_cost_usd=settings.llm_max_cost
    )
    return LlmPlanner(model, executor, bounds, prices, model_name=settings.llm_model)


def build_investigator(settings: Settings, llm: LlmPlanner) -> Investigator:
    """The model as investigator when triage's rules cannot conclude, within the planner's bounds."""
    return Investigator(
        llm,
        window=timedelta(minutes=settings.change_window_minutes),
        slack=timedelta(seconds=settings.triage_step_seconds),
        minutes=settings.triage_lookback_minutes,
    )


def policy_from_settings(settings: Settings) -> PolicyData:
    return with_settings(
        PolicyData(autonomy=dict(settings.autonomy), approval_ttl_seconds=settings.approval_ttl_seconds), settings
    )


def inline_windows(settings: Settings) -> tuple[Window, ...]:
    """ACTIONDESK_FREEZE_WINDOWS: [{"name", "start", "end", "services"}] with ISO 8601 times."""
    windows = []
    for i, raw in enumerate(settings.freeze_windows):
        try:
            start, end = datetime.fromisoformat(str(raw["start"])), datetime.fromisoformat(str(raw["end"]))
            if start.tzinfo is None or end.tzinfo is None or end <= start:
                raise ValueError("start and end need a time zone, and end must be after start")
            windows.append(
                Window(str(raw.get("name") or f"freeze {i + 1}"), start, end, tuple(raw.get("services") or ()))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"ACTIONDESK_FREEZE_WINDOWS[{i}]: {exc}") from None
    return tuple(windows)


def with_settings(policy: PolicyData, settings: Settings) -> PolicyData:
    """Lay the governance settings over policy data built elsewhere (a scenario's, a test's)."""
    defaults = PolicyData()
    return replace(
        policy,
        freezes=(*policy.freezes, *inline_windows(settings)),
        kill_switch=policy.kill_switch or settings.kill_switch,
        production_approvers=settings.production_approvers
        if policy.production_approvers == defaults.production_approvers
        else policy.production_approvers,
        freeze_approvers=settings.freeze_approvers
        if policy.freeze_approvers == defaults.freeze_approvers
        else policy.freeze_approvers,
        confidence={**settings.confidence_thresholds, **policy.confidence},
        confidence_default=settings.confidence_threshold
        if policy.confidence_default == defaults.confidence_default
        else policy.confidence_default,
    )


def build_governance(
    settings: Settings,
    store: SqlStore,
    clock: Clock,
    catalog: Catalog,
    inventory: Inventory,
    policy: PolicyData,
    controls: Controls | None,
    *,
    read_only: bool = False,
) -> Governance:
    """Cedar policies (ACTIONDESK_POLICY_DIR), calendars, the circuit breaker and the controls, checked now."""
    calendars = None
    if settings.freeze_calendars or settings.chaos_calendars:
        calendars = Calendars(sources(settings.freeze_calendars), sources(settings.chaos_calendars))
        calendars.load(clock.now())
    breaker = CircuitBreaker(
        store,
        clock,
        max_repeats=settings.breaker_max_repeats,
        window_minutes=settings.breaker_window_minutes,
        cooldown_minutes=settings.breaker_cooldown_minutes,
        read_only=read_only,
    )
    return Governance(
        catalog,
        inventory,
        with_settings(policy, settings),
        controls,
        policies=PolicyStore(settings.policy_dir),
        calendars=calendars,
        breaker=breaker,
        agent=settings.agent_identity,
    )


def approval_settings(settings: Settings) -> ApprovalSettings:
    return ApprovalSettings(
        break_glass_group=settings.break_glass_group,
        break_glass_minutes=settings.break_glass_minutes,
        escalate_after_seconds=settings.approval_escalate_after_seconds,
        escalation_group=settings.approval_escalation_group,
    )


def utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")
