"""People and groups from a YAML file (ACTIONDESK_DIRECTORY_FILE), shaped like a scenario's ``world.people``."""

from __future__ import annotations

from actiondesk.adapters.directory.yaml_file import YamlDirectory, load_directory

__all__ = ["YamlDirectory", "load_directory"]
