"""Every fenced block of README.md and docs/*.md closes, and every Mermaid block parses at least structurally
(a known diagram type, balanced brackets, subgraph/end and block/end pairs) — a block that never closes swallows
the rest of the page (issue 14: the README's second diagram once hid the code layout and two sections)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPENING = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
DIAGRAMS = {
    "flowchart", "graph", "sequenceDiagram", "classDiagram", "stateDiagram", "stateDiagram-v2", "erDiagram",
    "journey", "gantt", "pie", "quadrantChart", "requirementDiagram", "gitGraph", "mindmap", "timeline",
    "sankey-beta", "xychart-beta", "block-beta", "packet-beta", "architecture-beta", "kanban", "C4Context",
}  # fmt: skip
# Keywords that open a section closed by `end`, per diagram type.
SECTIONS = {
    "flowchart": {"subgraph"},
    "graph": {"subgraph"},
    "sequenceDiagram": {"loop", "alt", "opt", "par", "critical", "break", "rect", "box"},
    "stateDiagram": set(),
    "stateDiagram-v2": set(),
}


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    info: str
    body: list[str]
    closed: bool


def blocks(text: str, page: Path) -> list[Block]:
    """Fenced code blocks as CommonMark reads them: a closing fence is the same character, at least as long as
    the opening one, with nothing but spaces after it."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = OPENING.match(lines[index])
        if opening is None or (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            index += 1
            continue
        fence, info = opening.group(1), opening.group(2).strip()
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), None)
        body = lines[index + 1 : end if end is not None else len(lines)]
        found.append(Block(page, index + 1, info, body, end is not None))
        index = (end if end is not None else len(lines)) + 1
    return found


def mermaid_problems(body: list[str]) -> list[str]:
    lines = [line.strip() for line in body if line.strip() and not line.strip().startswith("%%")]
    if lines and lines[0] == "---":  # front matter (a title, a config)
        lines = lines[lines.index("---", 1) + 1 :] if "---" in lines[1:] else []
    if not lines:
        return ["an empty diagram"]
    kind = lines[0].split()[0]
    if kind not in DIAGRAMS:
        return [f"unknown diagram type {kind!r}"]
    problems = []
    depth = 0
    for number, line in enumerate(lines[1:], start=2):
        if line.startswith("```") or line.startswith("#"):
            problems.append(f"line {number}: {line[:40]!r} does not belong in a diagram (an unclosed block?)")
        words = line.split()
        if words and words[0] in SECTIONS.get(kind, set()):
            depth += 1
        elif words and words[0] == "end":
            depth -= 1
            if depth < 0:
                problems.append(f"line {number}: `end` without a section to close")
                depth = 0
        unquoted = re.sub(r'"[^"]*"', "", line)
        unquoted = re.sub(r"\|[^|]*\|", "", unquoted)  # edge labels
        for left, right in ("[]", "()", "{}"):
            if unquoted.count(left) != unquoted.count(right):
                problems.append(f"line {number}: unbalanced {left}{right} in {line[:60]!r}")
    if depth:
        problems.append(f"{depth} section(s) never closed with `end`")
    return problems


ALL = [b for page in PAGES for b in blocks(page.read_text(encoding="utf-8"), page)]


def test_there_are_blocks_to_check():
    assert any(b.info == "mermaid" for b in ALL)
    assert len(ALL) > 10


@pytest.mark.parametrize("block", ALL, ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.line}")
def test_every_fenced_block_closes(block):
    assert block.closed, f"{block.page.name}: the block opened at line {block.line} never closes"


@pytest.mark.parametrize(
    "block", [b for b in ALL if b.info == "mermaid"], ids=lambda b: f"{b.page.relative_to(ROOT)}:{b.line}"
)
def test_every_mermaid_block_parses_structurally(block):
    assert mermaid_problems(block.body) == []


def test_the_checks_catch_what_they_are_for():
    unclosed = blocks("# A\n\n```mermaid\nflowchart LR\n  a --> b\n\n## Code layout\n| x | y |\n", Path("x.md"))
    assert [b.closed for b in unclosed] == [False]
    assert mermaid_problems(unclosed[0].body) == [
        "line 3: '## Code layout' does not belong in a diagram (an unclosed block?)"
    ]
    assert mermaid_problems(["flowchart LR", "subgraph A", "a[one --> b"]) == [
        "line 3: unbalanced [] in 'a[one --> b'",
        "1 section(s) never closed with `end`",
    ]
    assert mermaid_problems(["flowhcart LR", "a --> b"]) == ["unknown diagram type 'flowhcart'"]
    nested = blocks("````md\n```sh\nmake\n```\n````\n", Path("x.md"))
    assert [(b.info, b.closed) for b in nested] == [("md", True)]


IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_picture_a_page_shows_is_in_the_repository(page):
    for target in IMAGE.findall(page.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (page.parent / target).is_file(), f"{page.name} shows {target}, which is missing"
