"""Where replicas keep one sandbox estate: a stored, versioned text that each change locks.

``SandboxEstate`` given a ``SharedState`` never trusts its own copy: every change takes the stored row's lock,
re-reads it, applies the pure mutation and writes the result with the next version, in one transaction; every
read first checks the version and re-reads when another replica changed it. The composition root wires the
store's state blob here (the sandbox imports no other adapter).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class HeldState(Protocol):
    """The stored estate, locked for one transaction."""

    version: int
    text: str | None  # None: nothing stored yet

    def write(self, text: str) -> int:
        """Store the changed estate in the held transaction; the new version."""
        ...


class SharedState(Protocol):
    def version(self) -> int | None:
        """The stored version, cheaply (None: nothing stored)."""
        ...

    def read(self) -> tuple[int, str] | None: ...

    def locked(self) -> AbstractContextManager[HeldState]:
        """Hold the stored estate until the block ends; committed then, rolled back if it raises."""
        ...
