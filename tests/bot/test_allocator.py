"""The serving process's C allocator: at most ARENAS glibc malloc arenas however many threads allocate, glibc's
own choice left alone when the setting is 0, nothing done on another C library, and a trim each time the case pool
settles after work."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from actiondesk.bot.server import allocator

glibc_only = pytest.mark.skipif(allocator.glibc() is None, reason="glibc's allocator only")

# Eight threads allocate at once; malloc_info then lists one <heap> per arena.
COUNT_ARENAS = textwrap.dedent(
    """
    import ctypes, sys, tempfile, threading
    from actiondesk.bot.server import allocator
    if sys.argv[1] == "limit":
        assert allocator.limit_arenas(2)
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    start = threading.Barrier(8)
    def allocate():
        start.wait()
        for _ in range(2000):
            libc.malloc(512)
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    with tempfile.NamedTemporaryFile() as out:
        fp = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        print(open(out.name).read().count("<heap nr="))
    """
)


def arenas(mode: str) -> int:
    env = {"PATH": "/usr/bin:/bin"}  # no MALLOC_ARENA_MAX inherited
    done = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    return int(done.stdout.strip())


@glibc_only
def test_on_glibc_eight_allocating_threads_share_at_most_two_arenas():
    assert arenas("limit") <= allocator.ARENAS
    assert arenas("default") > allocator.ARENAS, "without the limit the same threads get arenas of their own"


@glibc_only
def test_no_arena_limit_leaves_glibc_its_own_choice(monkeypatch: pytest.MonkeyPatch):
    asked: list[tuple[int, int]] = []
    calls = allocator.glibc()
    assert calls is not None
    monkeypatch.setattr(calls, "mallopt", lambda option, value: asked.append((option, value)) or 1)
    assert allocator.limit_arenas(0) is False
    assert asked == []
    assert allocator.limit_arenas(3) is True
    assert asked == [(allocator.M_ARENA_MAX, 3)]


def test_on_another_c_library_both_calls_do_nothing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    allocator.glibc.cache_clear()
    try:
        assert allocator.glibc() is None
        assert allocator.limit_arenas() is False
        assert allocator.trim() is False
    finally:
        allocator.glibc.cache_clear()


async def test_a_trim_follows_each_time_the_case_pool_settles_after_work():
    looks = [False, True, True, False, False, True, False, False]  # idle, work, settled, idle, work, settled
    trims: list[int] = []
    done = asyncio.Event()

    def working() -> bool:
        if len(looks) == 1:
            done.set()
        return looks.pop(0)

    def trimmer() -> bool:
        trims.append(len(looks))
        return True

    task = asyncio.get_running_loop().create_task(allocator.trim_when_settled(working, trimmer, every=0))
    await asyncio.wait_for(done.wait(), 10)
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    assert trims == [4, 1], "once after the first work settled, once after the second; never while idle"
