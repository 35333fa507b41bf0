"""The procurement API, bound to the OpenAPI document ActionDesk ships (procurement.openapi.yaml)."""
