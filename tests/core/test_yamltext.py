"""YAML parsed once per text: each caller gets its own copy, and a bad text fails every time."""

from __future__ import annotations

import pytest
import yaml

from actiondesk.core import yamltext


def test_each_caller_gets_its_own_copy_of_what_was_parsed() -> None:
    text = "steps:\n  - {action: rollback, params: {service: checkout}}\n"
    first = yamltext.safe_load(text)
    first["steps"][0]["params"]["service"] = "changed by a caller"
    first["steps"].append("more")
    assert yamltext.safe_load(text) == yaml.safe_load(text)


def test_a_changed_text_is_parsed_afresh() -> None:
    assert yamltext.safe_load("a: 1\n") == {"a": 1}
    assert yamltext.safe_load("a: 2\n") == {"a": 2}


def test_a_bad_text_raises_every_time_and_is_not_kept() -> None:
    for _ in range(2):
        with pytest.raises(yaml.YAMLError):
            yamltext.safe_load("a: [1, 2\n")
