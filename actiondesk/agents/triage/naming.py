"""Which services a conversation names: by name, alias, singular or plural, the words of a hyphenated name
("ledger" for ``ledger-db``) and the distinctive words of a service's description ("card payments").

Strength, strongest first:
- a whole name or alias ("payment gateway", "orders-db", "recommendations");
- a word of a hyphenated name that is not generic ("ledger" in ``ledger-db``; never "db" or "service");
- words of a description that belong to that one service alone ("hotel" when only ``search`` says hotel).
A word shared by several services makes them *candidates* (ambiguous) rather than a guess. The newest message
that names anything decides (a reply "sorry, I meant search" replaces the first message's service), unless it
says "also", "too" or "both", which add to what was named before; "not X" takes X out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actiondesk.core.estate import Service

GENERIC = frozenset(
    {
        "api",
        "app",
        "backend",
        "cluster",
        "database",
        "db",
        "gw",
        "node",
        "server",
        "service",
        "svc",
        "system",
        "web",
        "worker",
    }
)
STOPWORDS = frozenset(
    {
        "a",
        "about",
        "all",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "down",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "them",
        "this",
        "to",
        "up",
        "us",
        "we",
        "what",
        "when",
        "where",
        "which",
        "with",
        "you",
        "your",
    }
)
_ADDING = re.compile(r"(?i)\b(also|too|both|as well)\b")
_NEGATION = ("not", "isnt", "isn", "no")


def stem(word: str) -> str:
    """A word's singular: recommendations -> recommendation, queries -> query, orders -> order."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lowercase words, apostrophes dropped ("isn't" -> "isnt"), each reduced to its singular."""
    plain = re.sub(r"['\u2019]", "", text.lower())
    return [stem(w) for w in re.findall(r"[a-z0-9]+", plain)]


@dataclass(frozen=True)
class Mentions:
    """What one message names: services it names for certain, and candidates among which it is ambiguous."""

    named: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.named and not self.candidates


@dataclass(frozen=True)
class _Phrase:
    service: str
    tokens: tuple[str, ...]


class Namer:
    """The vocabulary of an estate's services, built once per list of services."""

    def __init__(self, services: Sequence[Service]) -> None:
        self.services = [s.name for s in services]
        self._phrases: list[_Phrase] = []
        parts: dict[str, set[str]] = {}
        described: dict[str, set[str]] = {}
        for service in services:
            for name in (service.name, *service.aliases):
                tokens = tuple(words(name))
                if tokens:
                    self._phrases.append(_Phrase(service.name, tokens))
            for part in words(service.name):
                if part not in GENERIC and part not in STOPWORDS and not part.isdigit():
                    parts.setdefault(part, set()).add(service.name)
            for word in words(service.description):
                if word not in STOPWORDS and word not in GENERIC and len(word) > 2:
                    described.setdefault(word, set()).add(service.name)
        self._phrases.sort(key=lambda p: -len(p.tokens))  # the longest phrase claims its words first
        self._parts = parts
        # a description word names a service only when no other service's name or description uses it
        self._described = {w: names for w, names in described.items() if len(names) == 1 and w not in parts}

    def mentions(self, text: str) -> Mentions:
        tokens = words(text)
        claimed = [False] * len(tokens)
        named: list[str] = []
        excluded: list[str] = []

        def take(service: str, start: int) -> None:
            negated = start > 0 and tokens[start - 1] in _NEGATION
            target = excluded if negated else named
            if service not in target:
                target.append(service)

        for phrase in self._phrases:
            n = len(phrase.tokens)
            for i in range(len(tokens) - n + 1):
                if tuple(tokens[i : i + n]) == phrase.tokens and not any(claimed[i : i + n]):
                    claimed[i : i + n] = [True] * n
                    take(phrase.service, i)
        candidates: list[str] = []
        for i, token in enumerate(tokens):
            if claimed[i]:
                continue
            owners = self._parts.get(token) or self._described.get(token)
            if not owners:
                continue
            if len(owners) == 1:
                take(next(iter(owners)), i)
            else:
                candidates += [o for o in sorted(owners) if o not in candidates]
        named = [s for s in named if s not in excluded]
        candidates = [c for c in candidates if c not in named and c not in excluded]
        return Mentions(named=tuple(named), candidates=tuple(candidates), excluded=tuple(excluded))

    def resolve(self, thread: Iterable[str]) -> Mentions:
        """What the conversation names, newest message first (see the module's docstring)."""
        found = Mentions()
        for text in reversed(list(thread)):
            said = self.mentions(text)
            if said.empty and not said.excluded:
                continue
            if found.empty and not found.excluded:
                found = said
            else:  # an earlier message, consulted because the newer one added to it
                named = [s for s in said.named if s not in found.excluded and s not in found.named]
                found = Mentions(
                    named=(*found.named, *named),
                    candidates=found.candidates,
                    excluded=found.excluded,
                )
            if not _ADDING.search(text) and not (said.empty and said.excluded):
                break
        return found
