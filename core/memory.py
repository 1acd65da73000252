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
        _LIBC.malloc_trim(0)


_LIBC: Any = None
