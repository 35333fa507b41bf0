"""Redaction returns text that cannot hold a secret without running its patterns (a few substring tests
instead). The shortcut must never let a secret through: on text built from every pattern's pieces, in any case,
with non-ASCII look-alikes, the result is what running every pattern gives."""

from __future__ import annotations

import random

import pytest

from actiondesk.core import redact
from actiondesk.core.redact import REDACTED, redact_text

PIECES = [
    "xoxb-",
    "xoxp-",
    "xapp-",
    "sk-",
    "ghp_",
    "gho_",
    "ghs_",
    "AKIA",
    "eyJ",
    "abcdefgh1234567890ABCDEFGH",
    "ABCDEFGHIJKLMNOP",
    ".",
    "-",
    "_",
    " ",
    "=",
    ": ",
    " is ",
    "Bearer ",
    "BEARER ",
    "password",
    "PassWd",
    "pwd",
    "SECRET",
    "client_secret",
    "Token",
    "api-key",
    "APIKEY",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "\u017fecret",  # long s: the patterns' ignoring of case takes it for an s
    "to\u212aen",  # Kelvin sign: taken for a k
    "zo\u00eb",
    "payment-gateway",
    "v2.4.1",
    "'quoted value'",
    '"x"',
]


def _every_pattern(text: str) -> str:
    for pattern in redact._PATTERNS:
        text = pattern.sub(REDACTED, text)
    return redact._ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


@pytest.mark.parametrize("seed", range(5))
def test_the_shortcut_redacts_exactly_what_every_pattern_does(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        assert redact_text(text) == _every_pattern(text), text


@pytest.mark.parametrize(
    "text",
    [
        "use xoxb-1234567890-abcdef to post",
        "Authorization: bearer abcdefgh.ijk",
        "the \u017fecret=hunter2 is set",  # non-ASCII: every pattern runs
        "TOKEN is abc123",
        f"key {'ghp_' + 'a' * 24}",
    ],
)
def test_text_with_a_secret_is_redacted(text: str) -> None:
    assert redact_text(text) != text
    assert redact_text(text) == _every_pattern(text)


def test_text_without_any_secret_comes_back_as_it_was() -> None:
    for text in ["payment-gateway now runs v2.4.1 (a1b2c3d)", "succeeded", "", "zo\u00eb asked"]:
        assert redact_text(text) == text
