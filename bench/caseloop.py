"""What one sandbox case costs the process: CPU ms and database commits per case, through the real case loop on
SQLite (synchronous=FULL), in one process, beside baselines measured in the same run.

    python bench/caseloop.py                      # both workloads
    python bench/caseloop.py --cases 200          # more drain cases
    python bench/caseloop.py --profile out.prof   # under cProfile: out.prof.drain, out.prof.scenarios
    python bench/caseloop.py --save before.json   # keep the figures ...
    python bench/caseloop.py --against before.json  # ... and print today's beside them

Workloads:
1. drain: the world `serve` starts in (the default sandbox, shared through the database as `serve` keeps it) and
   N reports "checkout is throwing 500s" opened and run to a final or waiting state, one after another: the case
   work of a burst's drain (bench/load.py), without HTTP.
2. scenarios: every scenario of scenarios/ played by the scenario runner, each on its own SQLite file (as
   `actiondesk scenario run scenarios` does); cases counted from the reports.

Baselines in the same run: the bare step loop of bench/run.py (in-memory store, fixed estate: the loop's own
logic, no simulation, no SQL) per case, and one bare sqlite3 insert + commit (synchronous=FULL) per commit the
case makes: what the commits alone would cost.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory import memory_loop

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.bot.scenario.runner import run_scenario, scenario_policy
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import build_runtime, open_store
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SETTLED = frozenset(
    {CaseStatus.RESOLVED, CaseStatus.ESCALATED, CaseStatus.AWAITING_APPROVAL, CaseStatus.AWAITING_REPLY}
)


@dataclass
class Figure:
    cases: int
    cpu_ms_per_case: float
    wall_ms_per_case: float
    commits_per_case: float


class Commits:
    """Counts the commits every engine made while it is entered (a SQLAlchemy event on all engines)."""

    def __init__(self) -> None:
        self.count = 0

    def _on_commit(self, conn: object) -> None:
        self.count += 1

    @contextmanager
    def counting(self) -> Iterator[Commits]:
        event.listen(Engine, "commit", self._on_commit)
        try:
            yield self
        finally:
            event.remove(Engine, "commit", self._on_commit)


def measured(work: Callable[[], int], commits: Commits, profile: Path | None = None) -> Figure:
    """Run ``work`` (it returns how many cases it ran) and divide what it cost by its cases; with ``profile``,
    under cProfile, its stats written there (the figures are then the profiler's, not the product's)."""
    profiler = cProfile.Profile() if profile is not None else None
    before = commits.count
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        cases = work()
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Figure(cases, cpu / cases * 1000, wall / cases * 1000, (commits.count - before) / cases)


def settings_for(url: str) -> Settings:
    return Settings().model_copy(update={"database_url": url, "estate": "sandbox", "sandbox_scenario": None})


def drain(folder: Path, cases: int, commits: Commits, profile: Path | None) -> Figure:
    settings = settings_for(f"sqlite:///{folder / 'drain.db'}")
    store = open_store(settings)
    clock = SimulatedClock(NOW)
    estate, scenario = serve_estate(settings, store, clock)
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
    loop = runtime.loop

    def work() -> int:
        for n in range(cases):
            case = loop.open_case(f"checkout is throwing 500s for customers (report {n})", "bob", surface="bench")
            case = loop.run(case.id)
            assert case.status in SETTLED, (case.id, case.status)
            clock.advance(1)
        return cases

    return measured(work, commits, profile)


def scenarios(folder: Path, commits: Commits, profile: Path | None) -> Figure:
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    loaded = [load_scenario(f) for f in files]
    stores = []
    for i in range(len(loaded)):  # migrations outside the measured part
        own = settings_for(f"sqlite:///{folder / f'scenario-{i}.db'}")
        stores.append((own, open_store(own)))

    def work() -> int:
        total = 0
        for scenario, (own, store) in zip(loaded, stores, strict=True):
            report = run_scenario(scenario, own, store)
            assert report.passed, (scenario.name, report.mismatches)
            total += len(report.cases)
        return total

    return measured(work, commits, profile)


def bare_loop(cases: int) -> Figure:
    """bench/run.py's step loop: the loop's logic on the in-memory store and the fixed estate."""
    loop, estate = memory_loop(NOW)

    def work() -> int:
        for _ in range(cases):
            estate.reset()
            case = loop.run(loop.open_case("search is throwing errors", "alice").id)
            assert case.status is CaseStatus.RESOLVED, case.status
        return cases

    return measured(work, Commits())


def bare_commit_ms(folder: Path, n: int = 300) -> float:
    """CPU ms of one bare sqlite3 insert + commit, WAL and synchronous=FULL (the fsync is mostly not CPU)."""
    raw = sqlite3.connect(folder / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    raw.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, payload TEXT)")
    cpu = time.process_time()
    for i in range(n):
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t (payload) VALUES (?)", (f"entry {i}" * 20,))
        raw.execute("COMMIT")
    raw.close()
    return (time.process_time() - cpu) / n * 1000


def show(name: str, figure: Figure, loop: Figure, commit_ms: float, before: Figure | None) -> None:
    print(
        f"{name:<10} {figure.cases:>5} cases  {figure.cpu_ms_per_case:>8.1f} CPU ms/case  "
        f"{figure.wall_ms_per_case:>8.1f} wall ms/case  {figure.commits_per_case:>6.1f} commits/case"
    )
    print(
        f"{'':<10} ratio {figure.cpu_ms_per_case / loop.cpu_ms_per_case:>7.1f}x the bare step loop's case "
        f"({loop.cpu_ms_per_case:.2f} ms); its commits alone as bare sqlite3 commits: "
        f"{figure.commits_per_case * commit_ms:.1f} CPU ms"
    )
    if before is not None:
        print(
            f"{'':<10} against the saved run: CPU {before.cpu_ms_per_case:.1f} -> {figure.cpu_ms_per_case:.1f} ms "
            f"({before.cpu_ms_per_case / figure.cpu_ms_per_case:.2f}x less), commits {before.commits_per_case:.1f} "
            f"-> {figure.commits_per_case:.1f}"
        )


def _suffixed(path: Path | None, suffix: str) -> Path | None:
    return None if path is None else path.with_name(f"{path.name}.{suffix}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=60, help="drain cases (default 60)")
    parser.add_argument("--only", choices=("drain", "scenarios"), help="one workload")
    parser.add_argument(
        "--profile", type=Path, help="run under cProfile, writing PROFILE.drain and PROFILE.scenarios (pstats)"
    )
    parser.add_argument("--save", type=Path, help="write the figures as JSON")
    parser.add_argument("--against", type=Path, help="a JSON of --save to print beside today's figures")
    args = parser.parse_args(argv)
    saved = json.loads(args.against.read_text()) if args.against else {}
    figures: dict[str, Figure] = {}
    commits = Commits()
    with tempfile.TemporaryDirectory(prefix="actiondesk-caseloop-") as name, commits.counting():
        folder = Path(name)
        loop = bare_loop(300)
        commit_ms = bare_commit_ms(folder)
        print(f"ActionDesk case cost, Python {sys.version.split()[0]}; bare commit {commit_ms:.3f} CPU ms")
        if args.only in (None, "drain"):
            figures["drain"] = drain(folder, args.cases, commits, _suffixed(args.profile, "drain"))
        if args.only in (None, "scenarios"):
            figures["scenarios"] = scenarios(folder, commits, _suffixed(args.profile, "scenarios"))
    for name, figure in figures.items():
        before = Figure(**saved[name]) if name in saved else None
        show(name, figure, loop, commit_ms, before)
    if args.save:
        args.save.write_text(json.dumps({k: asdict(v) for k, v in figures.items()}, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
