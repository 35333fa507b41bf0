"""What holds a bench server's memory: loaded into `bench/serving.py serve --diagnose FILE` only, never into the
product. On each SIGUSR1 the server appends a report to FILE: glibc's arenas (in use, free, mapped), Python's own
allocator (blocks, pymalloc arenas), SQLite's memory, the asyncio tasks by coroutine, the objects the collector
tracks by type, and (with ``--trace``) the lines that allocated the most that is still alive (tracemalloc, which
costs memory and time of its own: its run's RSS is not a figure).
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path
from types import FrameType

MIB = 1024 * 1024
SHOWN = 25


class Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _glibc() -> str:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = Mallinfo2
    except (OSError, AttributeError):
        return "glibc: no mallinfo2"
    info = libc.mallinfo2()
    return (
        f"glibc: heap {info.arena / MIB:.1f} MiB (in use {info.uordblks / MIB:.1f}, free {info.fordblks / MIB:.1f},"
        f" top releasable {info.keepcost / MIB:.1f}), mmapped {info.hblkhd / MIB:.1f} MiB in {info.hblks} blocks"
    )


def _sqlite() -> str:
    import sqlite3  # noqa: F401  (loads the library the store uses)

    for name in ("libsqlite3.so.0", ctypes.util.find_library("sqlite3") or ""):
        try:
            library = ctypes.CDLL(name)
            library.sqlite3_memory_used.restype = ctypes.c_int64
            library.sqlite3_memory_highwater.restype = ctypes.c_int64
            used, high = library.sqlite3_memory_used(), library.sqlite3_memory_highwater(0)
            return f"sqlite: {used / MIB:.1f} MiB in use (high water {high / MIB:.1f} MiB)"
        except (OSError, AttributeError):
            continue
    return "sqlite: library not found"


def _pymalloc() -> str:
    """Python's own allocator, from ``sys._debugmallocstats`` (which writes to the C stderr: caught in a file)."""
    with tempfile.TemporaryFile("w+") as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        text = caught.read()
    wanted = ("# arenas allocated current", "# arenas highwater mark", "# bytes in allocated blocks")
    wanted += ("# bytes in available blocks", "# unused pools")
    lines = [" ".join(line.lstrip("# ").split()) for line in text.splitlines() if line.startswith(wanted)]
    return f"pymalloc: {sys.getallocatedblocks()} blocks; " + "; ".join(lines)


def _tasks() -> str:
    loop = asyncio._get_running_loop()
    if loop is None:
        return "asyncio: no running loop"
    tasks = asyncio.all_tasks(loop)
    named = collections.Counter(getattr(t.get_coro(), "__qualname__", repr(t.get_coro())) for t in tasks)
    return f"asyncio: {len(tasks)} tasks; " + ", ".join(f"{n} {name}" for name, n in named.most_common(SHOWN))


def _objects() -> str:
    kinds = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    frozen = gc.get_freeze_count()
    shown = ", ".join(f"{n} {name}" for name, n in kinds.most_common(SHOWN))
    return f"objects tracked (not frozen): {sum(kinds.values())} (frozen {frozen}); {shown}"


def _traced() -> str:
    if not tracemalloc.is_tracing():
        return "tracemalloc: off"
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    total = sum(s.size for s in snapshot.statistics("filename"))
    lines = [f"tracemalloc: {total / MIB:.1f} MiB traced, by line:"]
    for stat in snapshot.statistics("lineno")[:SHOWN]:
        frame = stat.traceback[0]
        lines.append(f"  {stat.size / 1024:9.0f} KiB {stat.count:8} blocks  {frame.filename}:{frame.lineno}")
    lines.append("  by file:")
    for stat in snapshot.statistics("filename")[:SHOWN]:
        lines.append(f"  {stat.size / 1024:9.0f} KiB {stat.count:8} blocks  {stat.traceback[0].filename}")
    return "\n".join(lines)


def report() -> str:
    status = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            status[key] = int(value.split()[0]) // 1024
    parts = [f"rss {status} MiB", _glibc(), _pymalloc(), _sqlite(), _tasks(), _objects(), _traced()]
    return "\n".join(parts) + "\n\n"


def on_signal(path: Path, trace: bool = False) -> None:
    """Append ``report()`` to ``path`` on every SIGUSR1 (in the main thread, between two of the loop's steps)."""
    if trace:
        tracemalloc.start(1)

    def handle(signum: int, frame: FrameType | None) -> None:
        with path.open("a") as out:
            out.write(report())

    signal.signal(signal.SIGUSR1, handle)
