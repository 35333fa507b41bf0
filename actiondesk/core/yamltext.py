"""YAML parsed once per text.

Every runtime built (each `serve`, each scenario played, each test) reads the built-in action packs and their
OpenAPI documents, the runbooks, the roles, owners and policy files; PyYAML's parser is most of what that costs.
``safe_load`` keeps what it parsed by the text itself (a changed file is a new text, parsed afresh) and hands
each caller its own deep copy, so no caller sees another's changes. Errors are raised every time, never kept.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

import yaml

KEPT = 256  # distinct texts kept


@lru_cache(maxsize=KEPT)
def _parsed(text: str) -> Any:
    return yaml.safe_load(text)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``: the same value, a fresh copy each call; yaml.YAMLError as yaml raises it."""
    return copy.deepcopy(_parsed(text))
