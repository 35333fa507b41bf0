"""The procurement API, bound to the OpenAPI document ActionDesk ships (procurement.openapi.yaml)."""

from actiondesk.adapters.procurement.api import DOCUMENT, HttpProcurement, document

__all__ = ["DOCUMENT", "HttpProcurement", "document"]
