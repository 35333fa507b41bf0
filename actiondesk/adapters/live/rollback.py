"""A rollback requested from the CI/CD system, for a service that neither Argo CD nor Kubernetes deploys: the
GitHub Actions ``workflow_dispatch`` of the catalog's workflow with the version to go back to, sent through the
``github-actions`` OpenAPI document (validated against it before it leaves), then done when the pipeline reports
that version deployed (a change event), or failed when it does not within the wait."""

from __future__ import annotations

import logging
from datetime import timedelta

from actiondesk.core.catalog import CiCdRef
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.estate import Deployment
from actiondesk.core.ports import ChangeLog, Clock, HttpOperations

log = logging.getLogger(__name__)

DOCUMENT = "github-actions"
OPERATION = "actions/create-workflow-dispatch"


class CiCdRollback:
    def __init__(
        self,
        http: HttpOperations | None,
        changes: ChangeLog,
        clock: Clock,
        *,
        wait_seconds: float,
        poll_seconds: float,
    ) -> None:
        self._http = http
        self._changes = changes
        self._clock = clock
        self._wait = wait_seconds
        self._poll = poll_seconds

    def request(self, service: str, ref: CiCdRef, to_version: str, reason: str) -> Deployment:
        if self._http is None:
            raise ActionFailedError(
                f"{service} is rolled back by its CI/CD workflow, but the {DOCUMENT} pack is not configured "
                f'(ACTIONDESK_PACK_URLS {{"{DOCUMENT}": "https://api.github.com"}} and its credential)'
            )
        owner, _, repo = ref.repository.partition("/")
        if not owner or not repo:
            raise ActionFailedError(
                f"{service}: the catalog's cicd.repository must be owner/name, not {ref.repository!r}"
            )
        asked = self._clock.now()
        self._http.call(
            DOCUMENT,
            OPERATION,
            path={"owner": owner, "repo": repo, "workflow_id": ref.workflow},
            query={},
            body={"ref": ref.ref, "inputs": {ref.version_input: to_version}},
        )
        log.info("asked %s's workflow %s to deploy %s again: %s", service, ref.workflow, to_version, reason)
        deadline = asked + timedelta(seconds=self._wait)
        while True:
            reported = [
                e
                for e in self._changes.recorded_changes(service=service, start=asked, limit=50)
                if e.kind == "deploy" and e.version == to_version
            ]
            if reported:
                done = reported[-1]
                return Deployment(
                    service, to_version, done.commit or "", done.at, author=done.author, kind="rollback", id=done.id
                )
            if self._clock.now() >= deadline:
                raise ActionFailedError(
                    f"the rollback of {service} to {to_version} was requested from {ref.repository}'s workflow "
                    f"{ref.workflow}, but no deploy of {to_version} was reported within {self._wait:g} s"
                )
            self._clock.sleep(self._poll)
