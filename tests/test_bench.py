"""The load, memory and audit benches run on a clean clone and print every figure issue 16 asks for, each beside its
baseline and goal. At a tiny scale: what is checked is that each figure is there, not its value (the benches
measure; the suite does not time)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
LIMIT = 300  # seconds for one bench at this scale (about 10 to 30 here)


def bench(*args: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONDESK_", "OTEL_", "SLACK_"))}
    done = subprocess.run(
        [sys.executable, str(BENCH / args[0]), *args[1:]],
        cwd=BENCH.parent, env=environment, capture_output=True, text=True, timeout=LIMIT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def figure(output: str, name: str) -> str:
    """The line of ``name``, which must show a ratio and, where given, a goal."""
    found = [line for line in output.splitlines() if line.strip().startswith(name)]
    assert found, f"no {name!r} in:\n{output}"
    return found[0]


RATIO = re.compile(r"\d+\.\d\dx")


def test_the_load_bench_prints_every_figure_beside_its_baseline() -> None:
    said = bench(
        "load.py", "--events", "40", "--concurrency", "10", "--creations", "20", "--stored", "100,200", "--rounds", "1"
    )
    for name in ("slack ack p50, 40 DMs at 10", "slack ack p99, 40 DMs at 10"):
        assert "bare Bolt" in figure(said, name)
    medians = [line for line in said.splitlines() if "median of 2 pairs' ratios" in line]  # a round, then the run's
    assert len(medians) == 2, said
    for line in medians:
        assert "<= 1.3x" in line, line
        assert "range" in line, line
    for name, goal in (
        ("/healthz p99 during the burst", "< 100 ms"),
        ("/readyz p99 during the burst", "< 100 ms"),
        ("approval click p99 during the burst", "< 250 ms"),
        ("server RSS with", "< 300 MiB"),
        ("console creation p99, 20 at 50", "< 250 ms"),
        ("/metrics scrape, 200 stored cases", "ratio ~ 1"),
    ):
        line = figure(said, name)
        assert goal in line, line
        assert RATIO.search(line), line
    assert "idle" in figure(said, "/healthz p99 during the burst")  # against the idle server
    assert "left" not in figure(said, "all 40 cases final or waiting")  # every case of the burst settled


def test_the_memory_bench_measures_serve_with_the_cases_it_leaves_open() -> None:
    said = bench("rss.py", "--events", "30")
    assert "(0 cases still working)" in said, said
    assert re.search(r"idle\s+RSS \d+ MiB", said), said
    assert re.search(r"\d+ open cases\s+RSS \d+ MiB", said), said
    assert "goal: 1,000 open < 300 MiB" in said


def test_the_audit_bench_gives_the_durable_append_rate_beside_a_bare_insert() -> None:
    said = bench("run.py", "audit")
    line = figure(said, "audit append (durable, 4/step)")
    assert "goal >= 3,000/s" in line, line
    assert "bare sqlite3 inserts, 4 per commit" in line, line
    assert RATIO.search(line), line
    assert "goal >= 250,000/s" in figure(said, "audit verify (SQLite)")
