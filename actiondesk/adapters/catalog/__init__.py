"""The live estate's service catalog, read from YAML and re-read when the file changes."""

from actiondesk.adapters.catalog.yaml_file import (
    CatalogError,
    Problem,
    ReloadingCatalog,
    load_catalog,
    parse_catalog,
)

__all__ = ["CatalogError", "Problem", "ReloadingCatalog", "load_catalog", "parse_catalog"]
