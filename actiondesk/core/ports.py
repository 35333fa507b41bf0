"""Ports: what the agents and the action space need from the world, as Protocols.

Adapters (the sandbox, the store, later Prometheus, Kubernetes, ServiceNow...) implement them; only the
composition root in ``bot/app.py`` chooses which.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditDraft, AuditEntry, AuditKind, VerifyReport
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.estate import Change, Deployment, LogLine, Person, Series, Service, ServicePods
from actiondesk.core.fulfilment import HardwareOrder, NewAccount, OrderDraft, UserAccount
from actiondesk.core.llm import Message, ModelTurn, ToolSchema
from actiondesk.core.paging import PageDraft
from actiondesk.core.runs import ActionRun
from actiondesk.core.systems import (
    Account,
    Application,
    ClusterEvent,
    HttpResult,
    LogRecord,
    MetricSample,
    Pod,
    RolloutRevision,
    Volume,
    Workload,
)
from actiondesk.core.tickets import Attachment, ChangeDraft, OutboxDraft, TicketComment, TicketDraft, TicketRef


class Clock(Protocol):
    """Wall-clock time in production, simulated time in scenario runs."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class ChatModel(Protocol):
    """A chat model with tool calling. Raise ModelUnavailableError or ModelRejectedError; never a vendor error."""

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> ModelTurn: ...


class Inventory(Protocol):
    """The services of the estate and how they depend on each other."""

    def service(self, name: str) -> Service:
        """Raise UnknownServiceError when there is no such service."""
        ...

    def services(self) -> list[Service]: ...


class Telemetry(Protocol):
    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """Fraction of requests answered 5xx, one point per step."""
        ...

    def latency_p95(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """95th-percentile latency in milliseconds, one point per step."""
        ...

    def cpu(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """CPU use in percent of what the service's pods may use, one point per step."""
        ...

    def pods(self, service: str, at: datetime) -> ServicePods:
        """The service's pods at ``at``: desired count, readiness, state, restarts."""
        ...

    def unready_replicas(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """How many of the pods the service wants were not ready, one point per step."""
        ...

    def restarts(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """Container restarts of the service's pods (a running total), one point per step."""
        ...

    def logs(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        trace_id: str | None = None,
        level: str | None = None,
        limit: int = 50,
    ) -> list[LogLine]:
        """Log lines, oldest first, at most ``limit`` (the newest ones when there are more)."""
        ...


class Deployer(Protocol):
    def deployments(self, service: str, limit: int = 10) -> list[Deployment]:
        """Newest first."""
        ...

    def changes(self, service: str, start: datetime, end: datetime) -> list[Change]:
        """Configuration, feature-flag, scaling and restart changes in the window, oldest first."""
        ...

    def rollback(self, service: str, to_version: str, *, reason: str) -> Deployment:
        """Deploy ``to_version`` again; raise ActionFailedError if the version was never deployed."""
        ...


class ChangeLog(Protocol):
    """The change events CI/CD systems reported, stored."""

    def record_change(self, event: ChangeEvent) -> tuple[ChangeEvent, bool]:
        """Store ``event`` unless its id is known; return the stored event and whether this call created it."""
        ...

    def recorded_changes(
        self,
        *,
        service: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeEvent]:
        """Oldest first; the newest ``limit`` when there are more."""
        ...


class Configurator(Protocol):
    """A service's runtime configuration: config keys, feature flags and its replica count. Each change is
    recorded as a Change. Raise UnknownServiceError, ActionFailedError; never a vendor error."""

    def config(self, service: str) -> dict[str, str]: ...

    def flags(self, service: str) -> dict[str, str]: ...

    def replicas(self, service: str) -> int: ...

    def set_config(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        """Set ``key`` to ``value``; None removes the key."""
        ...

    def set_flag(self, service: str, key: str, value: str | None, *, reason: str) -> Change: ...

    def scale(self, service: str, replicas: int, *, reason: str) -> Change: ...


class Cluster(Protocol):
    """Kubernetes Deployments in a namespace. Raise NotFoundError, ActionFailedError; never a vendor error."""

    def deployment(self, namespace: str, name: str) -> Workload: ...

    def restart(self, namespace: str, name: str, at: datetime) -> Workload:
        """What `kubectl rollout restart` does: stamp the pod template's restartedAt annotation."""
        ...

    def scale(self, namespace: str, name: str, replicas: int) -> Workload: ...

    def undo(self, namespace: str, name: str, to_revision: int) -> Workload:
        """What `kubectl rollout undo --to-revision` does: put that ReplicaSet's pod template back."""
        ...

    def history(self, namespace: str, name: str) -> list[RolloutRevision]:
        """Oldest revision first."""
        ...

    def pods(self, namespace: str, name: str) -> list[Pod]: ...

    def events(self, namespace: str, name: str) -> list[ClusterEvent]: ...


class Metrics(Protocol):
    def query(self, expr: str, at: datetime) -> list[MetricSample]: ...

    def query_range(self, expr: str, start: datetime, end: datetime, step_seconds: int) -> list[MetricSample]: ...


class LogSearch(Protocol):
    def search(
        self, labels: dict[str, str], start: datetime, end: datetime, *, trace_id: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        """Lines matching every label (and containing the trace id), oldest first."""
        ...


class Releases(Protocol):
    """Deployment history with a first-class rollback (Argo CD applications)."""

    def application(self, name: str) -> Application: ...

    def rollback(self, name: str, release_id: int) -> Application: ...


class Volumes(Protocol):
    def volume(self, host: str) -> Volume: ...

    def archive_volume(self, host: str) -> str:
        """Copy the volume's logs to the archive; return where they went."""
        ...

    def clear_volume(self, host: str) -> Volume: ...

    def restore_volume(self, host: str, archive: str, used_pct: float) -> Volume: ...


class VpnSessions(Protocol):
    def vpn_session(self, user: str) -> str:
        """The session's status, active or locked; raise NotFoundError."""
        ...

    def unlock_vpn_session(self, user: str) -> str: ...

    def lock_vpn_session(self, user: str) -> str: ...


class Identity(Protocol):
    """Accounts in the identity provider. No password ever crosses this port: a reset sends the person a
    one-time link out of band, and cancelling that ticket puts the previous credential back in force."""

    def account(self, user: str) -> Account: ...

    def reset_password(self, user: str) -> Account: ...

    def cancel_reset(self, user: str, ticket: str) -> Account: ...


class Accounts(Protocol):
    """Accounts in the identity provider (SCIM 2.0). Raise SystemUnavailableError when the provider is
    unreachable or failing (the call may succeed later), ActionFailedError when it refuses; never a vendor error."""

    def find_account(self, *, external_id: str | None = None, user_name: str | None = None) -> UserAccount | None:
        """The account with that externalId (or userName), if there is one."""
        ...

    def get_account(self, account_id: str) -> UserAccount:
        """Raise NotFoundError when there is no account with that id."""
        ...

    def create_account(self, account: NewAccount) -> UserAccount: ...

    def set_active(self, account_id: str, active: bool) -> UserAccount: ...


class Procurement(Protocol):
    """Hardware requests in the procurement system (ServiceNow Service Catalog, or the procurement API).
    Raise SystemUnavailableError / ActionFailedError like Accounts."""

    def find_orders(self, *, reference: str | None = None, requested_for: str | None = None) -> list[HardwareOrder]:
        """Orders (and returns) placed under ``reference``, or for a person; oldest first, cancelled ones too."""
        ...

    def get_order(self, key: str) -> HardwareOrder:
        """Raise NotFoundError."""
        ...

    def place_order(self, draft: OrderDraft) -> HardwareOrder: ...

    def cancel_order(self, key: str) -> HardwareOrder: ...


class AccessGroups(Protocol):
    """Group membership in the directory (LDAP, Active Directory). Raise SystemUnavailableError /
    ActionFailedError like Accounts; NotFoundError for a group that does not exist."""

    def group_ref(self, group: str) -> str:
        """The group's own id in the directory (its DN): the confirmation of a membership."""
        ...

    def group_members(self, group: str) -> frozenset[str]:
        """The user names of the group's members (lower case)."""
        ...

    def groups_of(self, user: str) -> list[str]:
        """The groups (under the configured base) the user is a member of, by name."""
        ...

    def add_member(self, group: str, user: str) -> None: ...

    def remove_member(self, group: str, user: str) -> None: ...


class HttpOperations(Protocol):
    """Operations of OpenAPI documents, validated against the document before any request leaves."""

    def call(
        self,
        document: str,
        operation_id: str,
        *,
        path: dict[str, str],
        query: dict[str, str],
        body: JsonValue = None,
    ) -> HttpResult:
        """Raise InvalidParametersError when the request does not validate, ActionFailedError on a failure."""
        ...


class Directory(Protocol):
    """People and their groups. Chat identities map to people by chat id, else by email."""

    def person(self, name: str) -> Person | None: ...

    def members(self, group: str) -> frozenset[str]: ...

    def people(self) -> list[Person]: ...

    def find_person(
        self, slack_user_id: str | None = None, email: str | None = None, teams_aad_object_id: str | None = None
    ) -> Person | None: ...


class UnitOfWork(Protocol):
    """One database transaction. Everything written through it commits or rolls back together."""

    def add_case(self, case: Case) -> Case: ...

    def get_case(self, case_id: str) -> Case:
        """Raise CaseNotFoundError."""
        ...

    def save_case(self, case: Case) -> Case:
        """Write ``case`` if the stored version still equals ``case.version``; return it with version + 1.

        Raise ConcurrencyError when the row changed under us.
        """
        ...

    def add_approval(self, approval: Approval) -> None: ...

    def get_approval(self, approval_id: str) -> Approval:
        """Raise ApprovalNotFoundError."""
        ...

    def transition_approval(self, approval: Approval, expected: ApprovalStatus) -> bool:
        """Compare-and-set: store ``approval`` only if the stored status is still ``expected``."""
        ...

    def claim_run(self, run: ActionRun) -> tuple[ActionRun, bool]:
        """Insert ``run`` unless its key exists; return the stored run and whether this call created it."""
        ...

    def save_run(self, run: ActionRun) -> None: ...

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append to the hash chain; the chain head is serialised across writers."""
        ...

    def remember(self, key: str, source: str, at: datetime) -> bool:
        """Record an inbound delivery key (event id, action id); False if it was already recorded."""
        ...

    def enqueue(self, drafts: Sequence[OutboxDraft], at: datetime) -> None:
        """Add ticket-mirror writes to the outbox, committed with whatever else this transaction writes."""
        ...

    def add_vote(self, approval_id: str, person: str, at: datetime) -> bool:
        """Record a vote to approve (quorum approvals); False if this person had already voted."""
        ...

    def votes(self, approval_id: str) -> list[str]:
        """The people who voted to approve, oldest vote first."""
        ...

    def link_alert(self, fingerprint: str, case_id: str, at: datetime) -> None:
        """Record the case an alert opened; ConcurrencyError if that alert already has one."""
        ...

    def failed_attempts(self, case_id: str) -> int:
        """How many attempts at the case's current step raised (0 when none did)."""
        ...

    def record_attempt(self, case_id: str, attempts: int, next_at: datetime, error: str, at: datetime) -> None:
        """Save the failed-attempt count of a case and when it may run again."""
        ...

    def clear_attempts(self, case_id: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def deferred(self, now: datetime) -> set[str]:
        """Cases whose step raised and whose retry backoff has not run out at ``now``."""
        ...

    def get_case(self, case_id: str) -> Case: ...

    def list_cases(self, statuses: frozenset[CaseStatus] | None = None, limit: int = 100) -> list[Case]: ...

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]: ...

    def runs(self, case_id: str) -> list[ActionRun]: ...

    def get_run(self, key: str) -> ActionRun:
        """The action run with this idempotency key; raise NotFoundError."""
        ...

    def claim_lease(self, case_id: str, owner: str, now: datetime, seconds: float) -> bool:
        """Take or renew the case's lease unless another owner holds an unexpired one."""
        ...

    def release_lease(self, case_id: str, owner: str) -> None: ...

    def claim_cases(
        self,
        owner: str,
        now: datetime,
        seconds: float,
        limit: int,
        *,
        ready: frozenset[CaseStatus],
        timed: frozenset[CaseStatus],
    ) -> list[str]:
        """Lease up to ``limit`` queued cases (in ``ready``, or in ``timed`` with their ``wake_at`` come; no
        unexpired lease, no retry backoff running) to ``owner``, oldest first, none to two callers at once."""
        ...

    def audit(self, case_id: str | None = None, after_seq: int = 0) -> Iterator[AuditEntry]: ...

    def audit_of_kind(self, kind: AuditKind, since: datetime) -> Iterator[AuditEntry]:
        """Entries of one kind written at or after ``since``, in seq order."""
        ...

    def verify_audit(self, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
        """Walk the chain; ``checkpoints`` (seq → published hash) catch a chain rewritten with its head."""
        ...

    def audit_head(self) -> tuple[int, str]: ...

    def claim_fire(self, job: str, fire_at: datetime, owner: str, now: datetime) -> bool:
        """Claim one scheduled firing; exactly one caller across replicas gets True."""
        ...


class StateBlobs(Protocol):
    """Named JSON documents kept in the store, for adapters (like the sandbox) that persist their own state."""

    def get_blob(self, name: str) -> str | None: ...

    def put_blob(self, name: str, text: str) -> None: ...


class TicketSystem(Protocol):
    """A service desk a case is mirrored into (ServiceNow, JSM). Raise TicketUnavailableError when a write
    may succeed later, TicketRejectedError when it never will; never a vendor error."""

    name: str

    def find(self, case_id: str) -> TicketRef | None:
        """The ticket whose correlation id is ``case_id``, if one was created (or linked by hand)."""
        ...

    def create(self, draft: TicketDraft) -> TicketRef: ...

    def has_entry(self, ticket: TicketRef, marker: str) -> bool:
        """Whether a note or comment carrying ``marker`` is already on the ticket."""
        ...

    def add_note(self, ticket: TicketRef, text: str, *, public: bool) -> None:
        """A work note / internal comment, or (``public``) a comment the requester sees."""
        ...

    def resolve(self, ticket: TicketRef, notes: str) -> str | None:
        """Resolve the ticket with ``notes``; what the case thread should hear about how, when it is not obvious."""
        ...

    def escalate(self, ticket: TicketRef, reason: str, group: str | None = None) -> None:
        """Hand the ticket to its people, saying why: the owner's assignment ``group`` when given (and known
        to the system), else the configured one."""
        ...

    def has_attachment(self, ticket: TicketRef, name: str) -> bool:
        """Whether a file of that name is already attached to the ticket."""
        ...

    def attach(self, ticket: TicketRef, attachment: Attachment) -> None: ...

    def open_change(self, ticket: TicketRef, change: ChangeDraft) -> str:
        """Create (or find, by ``change.correlation_id``) the change request for CAB; return its number."""
        ...

    def comments_since(self, ticket: TicketRef, cursor: str | None) -> tuple[list[TicketComment], str | None]:
        """Comments and work notes added after ``cursor`` (None: all), oldest first, and the new cursor."""
        ...


class Pager(Protocol):
    """An on-call paging service (PagerDuty, Opsgenie). Raise PageUnavailableError when the page may go through
    later, PageRejectedError when it never will; never a vendor error. Both calls are idempotent by the page's
    dedup key: a trigger for an open alert adds to it, a resolve of a closed one changes nothing."""

    name: str

    def trigger(self, page: PageDraft) -> None: ...

    def resolve(self, page: PageDraft) -> None: ...
