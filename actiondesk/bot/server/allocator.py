"""The C allocator of a serving process: fewer glibc malloc arenas, and freed memory handed back once work settles.

glibc gives each thread that allocates while another holds the main arena an arena of its own, up to eight per
core, and keeps what is freed in each for reuse. Case steps run on several threads (the case and jobs pools, the
event loop's executor), so after a burst every one of them holds its own freed memory: about a third of the RSS a
burst added, measured, was memory freed but kept. Python code runs one thread at a time (the GIL), so the arenas
buy little concurrency. ``serve`` limits them to ``ACTIONDESK_MALLOC_ARENAS`` (``mallopt(M_ARENA_MAX)``; 0 leaves
glibc's own choice, or glibc's ``MALLOC_ARENA_MAX`` the process was started with), and hands freed memory back to
the system (``malloc_trim(0)``) when the case pool has nothing to do.

On a C library other than glibc (macOS, musl) there is neither call, and both do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)

ARENAS = 2  # the setting's default (ACTIONDESK_MALLOC_ARENAS)
LOOK_SECONDS = 10.0  # how often the case pool is looked at for settling
M_ARENA_MAX = -8  # glibc's malloc.h


class _Glibc:
    """The two calls, bound once: ``mallopt(int, int) -> int`` and ``malloc_trim(size_t) -> int``."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.mallopt = library.mallopt
        self.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        self.mallopt.restype = ctypes.c_int
        self.malloc_trim = library.malloc_trim
        self.malloc_trim.argtypes = [ctypes.c_size_t]
        self.malloc_trim.restype = ctypes.c_int


@cache
def glibc() -> _Glibc | None:
    """glibc's allocator calls, or None on any other C library."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        library = ctypes.CDLL(name)
        return _Glibc(library) if hasattr(library, "mallopt") and hasattr(library, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Let glibc make at most ``arenas`` malloc arenas from now on. True when applied; False on another C
    library, or for 0 (glibc's own choice stands, or the ``MALLOC_ARENA_MAX`` the process was started with)."""
    calls = glibc()
    if calls is None or arenas == 0:
        return False
    if calls.mallopt(M_ARENA_MAX, arenas) != 1:
        log.warning("malloc arenas: glibc refused mallopt(M_ARENA_MAX, %d)", arenas)
        return False
    return True


def trim() -> bool:
    """Hand the memory freed in every arena back to the system. True when glibc released some."""
    calls = glibc()
    return calls is not None and calls.malloc_trim(0) == 1


async def trim_when_settled(
    working: Callable[[], bool], trimmer: Callable[[], bool] = trim, every: float = LOOK_SECONDS
) -> None:
    """Every ``every`` seconds look at the case pool; when it has had work since the last trim and has none now,
    trim (on a thread: it walks every arena). Runs until cancelled."""
    worked = False
    while True:
        await asyncio.sleep(every)
        if working():
            worked = True
        elif worked:
            worked = False
            released = await asyncio.to_thread(trimmer)
            log.debug("malloc_trim after the case pool settled: %s", "released" if released else "nothing")
