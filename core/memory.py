"""Process memory: giving freed heap back to the operating system."""

from __future__ import annotations

import ctypes
import sys
from typing import Any


def trim_heap() -> None:
    """Give freed heap memory back to the operating system (glibc's ``malloc_trim``; a no-op
    elsewhere). Every batch allocates tensors of another size, which leaves glibc's heap
    fragmented: without trimming, an encoding job's resident memory grew with every shard
    (``benchmarks/bench_corpus.py`` measures it), with trimming it stays flat."""
    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else False
        except OSError:
            _LIBC = False
        if _LIBC:
            # a fixed mmap threshold: glibc otherwise raises it after the first large free,
            # and every later tensor of a batch comes from (and fragments) the heap
            _LIBC.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    if _LIBC:
        _LIBC.malloc_trim(0)


_LIBC: Any = None
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
