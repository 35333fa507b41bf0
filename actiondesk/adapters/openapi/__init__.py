"""Operations of OpenAPI documents over httpx, each request validated by openapi-core before it is sent."""

from actiondesk.adapters.openapi.operations import Document, OpenApiOperations

__all__ = ["Document", "OpenApiOperations"]
