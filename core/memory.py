"""Process memory: giving freed heap back to the operating system."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while many acyclic records (the named tuples of
    a run's rankings) are built: every few hundred allocations it would otherwise walk the
    young objects, a large share of the time to build a reopened workspace's runs (README,
    "Corpora at scale"). Re-enabled after, if it was on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def trim_heap() -> None:
    """Give freed heap memory back to the operating system (glibc's ``malloc_trim``; a no-op
    elsewhere). Every batch allocates tensors of another size, which leaves glibc's heap
    fragmented; trimming returns what is free at the top of each arena."""
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else False
        except OSError:
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


def bound_heap() -> None:
    """Fix glibc's mmap threshold (once per process): glibc otherwise raises it after the
    first large free, and every later tensor of a batch comes from — and fragments — the
    heap, which trimming cannot give back; resident memory then grows with every shard of a
    large corpus. Large allocations mapped and unmapped each time cost page faults, so
    encoding runs slower: worth it only for corpora of many shards (the caller decides;
    ``benchmarks/bench_corpus.py`` measures both)."""
    global _BOUND
    trim_heap()
    if _LIBC and not _BOUND:
        _LIBC.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        _BOUND = True


_LIBC: Any = None
_BOUND = False
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
