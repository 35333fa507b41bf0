"""Field types shared by the built-in packs. Every field the model may see carries a description."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

ServiceName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="Service name as the estate knows it, e.g. payment-gateway.",
    ),
]
Version = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", description="A deployed version label, e.g. v2.4.1."),
]
TraceId = Annotated[str, Field(pattern=r"^[0-9a-f]{16,32}$", description="A trace id (16 or 32 hex digits).")]
HostName = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$", description="A host name as the estate knows it, e.g. worker-1."),
]
UserName = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9._-]{0,63}$", description="A person's account name, e.g. alice."),
]
K8sName = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="A Kubernetes object name or namespace (RFC 1123 label), e.g. payment-gateway.",
    ),
]
