"""Long work as generators (docs/architecture.md §2.2).

A long core operation is a generator that *yields* :class:`~clirlens.core.types.Progress`
at least every ~0.5 s and *returns* its result (``return value`` inside the generator, so
``result = yield from op(...)`` composes them). Callers choose how to drive it:

* :func:`run` drives it to completion, passing each progress record to a callback; the CLI
  uses it with a progress bar on stderr;
* the GUI hands the generator to a superqt worker, whose ``yielded`` signal carries the
  progress and whose ``returned`` signal carries the result; quitting the worker stops the
  generator at its next yield (cancel), and ``finally`` blocks in core keep caches
  consistent.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Generator
from typing import Any, TextIO, TypeVar

from clirlens.core.types import Progress

T = TypeVar("T")
Job = Generator[Progress, None, T]


def run(job: Job[T], on_progress: Callable[[Progress], Any] | None = None) -> T:
    """Drive ``job`` to completion and return its result."""
    while True:
        try:
            p = next(job)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(p)


def relabel(job: Job[T], label: str | Callable[[str], str]) -> Job[T]:
    """``job`` with its progress messages relabelled: ``label`` is put in front of each
    message (``"label: message"``, or ``label`` alone for an empty one), or is a function of
    the message. Returns ``job``'s result; closing the relabelled job (a cancel at a yield)
    closes ``job`` at once, so its ``finally`` blocks run then and there."""
    if callable(label):
        rename = label
    else:

        def rename(message: str) -> str:
            return f"{label}: {message}" if message else label

    return (yield from mapped(job, lambda p: dataclasses.replace(p, message=rename(p.message))))


def mapped(job: Job[T], change: Callable[[Progress], Progress | None]) -> Job[T]:
    """``job`` with each progress record replaced by ``change(record)`` (``None`` drops
    it). Returns ``job``'s result; closing it closes ``job`` at once, as :func:`relabel`."""
    try:
        while True:
            try:
                p = next(job)
            except StopIteration as stop:
                return stop.value
            changed = change(p)
            if changed is not None:
                yield changed
    finally:
        job.close()


class Throttle:
    """True at most every ``interval`` seconds (and on the first call); used by generators
    to yield progress often enough for a UI without flooding it."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._last = -1e9

    def __call__(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False


def duration(seconds: float) -> str:
    """``"8 s"``, ``"2 min 05 s"``, ``"1 h 04 min"``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Eta:
    """Time left in the current stage of a job, from the rate since the stage began
    (a stage is a run of progress records with the same message and total): ``left =
    elapsed * (total - done) / (done - done_at_start)``. None until a stage has run for
    ``warmup`` seconds, and when the total is unknown; ``clock`` is for tests."""

    def __init__(self, warmup: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.warmup = warmup
        self.clock = clock
        self._stage: tuple[str, int] | None = None
        self._start = 0.0
        self._done0 = 0

    def __call__(self, p: Progress) -> float | None:
        now = self.clock()
        stage = (p.message, p.total)
        if stage != self._stage or p.done < self._done0:
            self._stage, self._start, self._done0 = stage, now, p.done
            return None
        elapsed, gained = now - self._start, p.done - self._done0
        if p.total <= 0 or gained <= 0 or elapsed < self.warmup or p.done >= p.total:
            return None
        return elapsed * (p.total - p.done) / gained


def amount(p: Progress) -> str:
    """``"640 / 1,190"``, or ``"4.4 / 30.9 MB"`` for a count of bytes."""
    if p.unit == "bytes":
        return f"{p.done / 1e6:,.1f} / {p.total / 1e6:,.1f} MB"
    return f"{p.done:,} / {p.total:,}"


def describe(p: Progress, left: float | None) -> str:
    """``"encoding passages — 640 / 1190 · about 1 min 20 s left"`` (counts when known)."""
    text = p.message
    if p.total > 0:
        text += f" — {amount(p)}"
    if left is not None:
        text += f" · about {duration(left)} left"
    return text


class ProgressBar:
    """A one-line text progress bar for a terminal (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_msg = ""
        self._start = time.monotonic()
        self._eta = Eta()

    def __call__(self, p: Progress) -> None:
        filled = int(self.width * p.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self._start
        left = self._eta(p)
        eta = f", {duration(left)} left" if left is not None else ""
        line = f"[{bar}] {amount(p)} {p.message} ({elapsed:.1f}s{eta})"
        if self._tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if p.total and p.done >= p.total:
                self.stream.write("\n")
        elif p.message != self._last_msg or (p.total and p.done >= p.total):
            # not a terminal (CI logs): one line per stage, not per tick
            self.stream.write(line + "\n")
        self._last_msg = p.message
        self.stream.flush()


def run_with_bar(job: Job[T], quiet: bool = False) -> T:
    return run(job, None if quiet else ProgressBar())
