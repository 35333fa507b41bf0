"""The error tree. Every error ActionDesk raises on purpose derives from ``ActionDeskError``.

ActionDeskError
├── ConfigurationError        settings, runbooks or policy files are invalid (operator's fault)
├── NotFoundError             a case, approval, service or action run does not exist
│   ├── CaseNotFoundError
│   ├── ApprovalNotFoundError
│   └── UnknownServiceError
├── ActionError               the action space refused or failed a call
│   ├── UnknownActionError        the catalog has no action of that name
│   ├── InvalidParametersError    the parameters do not validate against the action's input model
│   ├── ScopeError                the action's pack is not granted the scope the action needs
│   ├── StateDriftError           the re-observed state no longer warrants a destructive action
│   └── ActionFailedError         the managed system answered with a failure
│       └── SystemUnavailableError    unreachable, 5xx or 429: the same call may succeed later
├── GovernanceError           an approval or decision was refused
│   ├── ApprovalConflictError     the approval was already decided (double click, second approver)
│   ├── ApprovalExpiredError      the approval's time ran out before it was decided
│   └── NotAuthorizedError        the person may not decide this approval
├── StaleAnswerError          a clicked answer is not one the case's open question offers (answered, timed out, forged)
├── InvalidTransitionError    a case was asked to move to a state its current state does not lead to
├── ConcurrencyError          a row changed under us (optimistic version check, lost lease)
├── AuditIntegrityError       the audit chain does not verify
├── TicketError               the ticket system (ServiceNow, JSM) did not take a mirror write
│   ├── TicketUnavailableError    unreachable, 5xx, 408, 409 or 429: the same write may succeed later
│   └── TicketRejectedError       a 4xx it will answer again: retrying the same write cannot help
├── PageError                 the pager (PagerDuty, Opsgenie) did not take a page
│   ├── PageUnavailableError      unreachable, 5xx or 429: the same page may go through later
│   └── PageRejectedError         the pager refuses the event itself (bad payload, bad key)
├── ScenarioError             a scenario file is malformed
└── InvalidRequestError       a service request (onboarding, offboarding) lacks a field or has a bad one
"""

from __future__ import annotations


class ActionDeskError(Exception):
    """Root of every error ActionDesk raises on purpose."""


class ConfigurationError(ActionDeskError):
    """Raised when settings, runbooks or policy data are invalid."""


class NotFoundError(ActionDeskError):
    """Raised when a named thing does not exist."""


class CaseNotFoundError(NotFoundError):
    """Raised when no case has the given id."""


class ApprovalNotFoundError(NotFoundError):
    """Raised when no approval has the given id."""


class UnknownServiceError(NotFoundError):
    """Raised when the estate has no service of that name."""


class ActionError(ActionDeskError):
    """Raised when the action space refuses or fails a call."""


class UnknownActionError(ActionError):
    """Raised when the catalog has no action of the given name."""


class InvalidParametersError(ActionError):
    """Raised when parameters do not validate against the action's input model."""


class ScopeError(ActionError):
    """Raised when an action needs a scope its pack's service account is not granted."""


class StateDriftError(ActionError):
    """Raised when a destructive action's re-observation shows the state no longer warrants it."""


class ActionFailedError(ActionError):
    """Raised when the managed system answers an action with a failure."""


class SystemUnavailableError(ActionFailedError):
    """Raised when a managed system (SCIM, LDAP, procurement) is unreachable, busy or failing; the same call may
    succeed later. ``retry_after`` is the system's own hint, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GovernanceError(ActionDeskError):
    """Raised when an approval or decision is refused."""


class ApprovalConflictError(GovernanceError):
    """Raised when an approval was already decided by someone else or by an earlier click."""


class ApprovalExpiredError(GovernanceError):
    """Raised when an approval is decided after its expiry."""


class NotAuthorizedError(GovernanceError):
    """Raised when a person may not decide an approval (not in the group, or separation of duties)."""


class StaleAnswerError(ActionDeskError):
    """Raised when a clicked answer is not one the case's open question offers: the question was already
    answered, timed out or replaced by a newer one, or the choice was never offered (a forged button)."""


class InvalidTransitionError(ActionDeskError):
    """Raised when a case is moved to a state its current state does not lead to."""


class DuplicateDeliveryError(ActionDeskError):
    """Raised when an inbound delivery (a chat event, an activity) was already recorded: a retry or a replay."""


class ConcurrencyError(ActionDeskError):
    """Raised when a row changed under us: optimistic version mismatch or a lost lease."""


class AuditIntegrityError(ActionDeskError):
    """Raised when the audit chain does not verify."""


class TicketError(ActionDeskError):
    """Raised when a ticket system does not take a mirror write."""


class TicketUnavailableError(TicketError):
    """Raised when the ticket system is unreachable or busy; ``retry_after`` is its own hint, in seconds.

    ``whole_system`` is False when only this ticket is throttled (Jira's per-issue write limit).
    """

    def __init__(self, message: str, retry_after: float | None = None, *, whole_system: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.whole_system = whole_system


class TicketRejectedError(TicketError):
    """Raised when the ticket system rejects the payload itself (a 4xx other than 408, 409 and 429)."""


class PageError(ActionDeskError):
    """Raised when a pager does not take a page."""


class PageUnavailableError(PageError):
    """Raised when the pager is unreachable, failing or throttling; ``retry_after`` is its own hint, in seconds."""

    whole_system = True  # a pager's limits hold for the whole integration, never for one alert

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PageRejectedError(PageError):
    """Raised when the pager refuses the event itself (400, 401, 403, 422): sending it again cannot help."""


class ScenarioError(ActionDeskError):
    """Raised when a scenario file is malformed."""


class InvalidRequestError(ActionDeskError):
    """Raised when an onboarding or offboarding request lacks a field or has a bad one; ``fields`` says which
    (field name → what is wrong), so a form can show each problem next to its field."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class ModelError(ActionDeskError):
    """Raised when the language model cannot be used for planning."""


class ModelUnavailableError(ModelError):
    """Raised when the model endpoint is unreachable, busy or failing after bounded retries, or its circuit is
    open (the operator's or the provider's side)."""


class ModelRejectedError(ModelError):
    """Raised when the endpoint refuses the request itself (bad key, unknown model: the operator's side)."""
