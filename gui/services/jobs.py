"""Running core jobs (generators yielding :class:`Progress`) in worker threads.

:class:`JobRunner` hands a job to a superqt :class:`GeneratorWorker` and relays what the
worker reports through its own signals, on the GUI thread: ``progressChanged`` for every
yielded :class:`Progress`, the job's result to the ``on_done`` callback given to
:meth:`JobRunner.start`, failures as ``failed`` (a :class:`Failure`: one-line message plus
details). Workers never touch widgets.

One job at a time: :meth:`JobRunner.start` supersedes the running one, :meth:`JobRunner.queue`
runs a job once no worker is left (in the order queued), so two jobs that read the same
workspace never run at once. :meth:`JobRunner.cancel` calls ``worker.quit()``, which takes
effect at the job's next yield; the generator is then closed in the worker thread, so its
``finally`` blocks run there, and core keeps its caches consistent because it stores only
completed entries. ``busyChanged(False)`` is emitted once no worker is left running. A job
that ends without a result (cancelled, failed, or superseded) calls its ``on_stopped``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from superqt.utils import GeneratorWorker, create_worker

from clirlens.core.errors import UserError
from clirlens.core.progress import Job
from clirlens.core.types import Progress


class JobError(Exception):
    """A ``RuntimeError`` raised by a job, re-raised under another type: superqt treats a
    worker's ``RuntimeError`` as "the worker was deleted" and would drop it silently."""


@dataclass(frozen=True)
class Failure:
    """An error to show: ``message`` is one line; ``details`` adds the traceback for
    unexpected errors (a :class:`UserError` is its own explanation)."""

    title: str
    message: str
    details: str
    expected: bool

    @classmethod
    def from_exception(cls, title: str, exc: BaseException) -> Failure:
        if isinstance(exc, UserError):
            return cls(title, str(exc), str(exc), True)
        cause = exc.__cause__ if isinstance(exc, JobError) and exc.__cause__ else exc
        message = f"{type(cause).__name__}: {cause}".splitlines()[0]
        details = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
        return cls(title, f"unexpected error: {message}", details, False)


def _guarded(job: Job[Any]) -> Generator[Progress, None, Any]:
    try:
        return (yield from job)
    except RuntimeError as exc:
        raise JobError(str(exc)) from exc


def _background_priority(niceness: int = 5) -> None:
    """Lower this thread's CPU priority (Linux: threads have their own nice value), so the
    GUI thread wins the CPU when encoding keeps every core busy. Threads the job starts
    (torch's intra-op pool) inherit it. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)


class _Worker(GeneratorWorker):
    """Runs at background priority; closes the job in the worker thread when it was asked
    to quit (``job`` is set by :meth:`JobRunner.start`: the generator the worker's own
    wrapper delegates to, so no private attribute of superqt is needed)."""

    job: Job[Any] | None = None

    def work(self) -> Any:
        _background_priority()
        try:
            return super().work()
        finally:
            if self.abort_requested and self.job is not None:
                # a job failing while it unwinds has nothing left to report
                with contextlib.suppress(Exception):
                    self.job.close()


def _abandon(running: dict[int, GeneratorWorker], *_: object) -> None:
    """A runner was deleted (its window closed) while workers still ran: ask them to stop at
    their next yield; what they still report is dropped by the slots' liveness check."""
    for worker in list(running.values()):
        with contextlib.suppress(RuntimeError):
            worker.quit()


@dataclass
class _Queued:
    title: str
    job: Job[Any]
    on_done: Callable[[Any], None]
    on_stopped: Callable[[str], None] | None = field(default=None)


class JobRunner(QObject):
    progressChanged = Signal(object)  # Progress of the current job
    busyChanged = Signal(bool)  # True while a job runs or a cancelled one winds down
    jobChanged = Signal(str)  # title of the current job ("" when none)
    failed = Signal(object)  # Failure
    cancelled = Signal(str)  # title of the cancelled job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._token = 0
        self._title = ""
        self._running: dict[int, GeneratorWorker] = {}  # token -> worker still running
        self._current: GeneratorWorker | None = None
        self._on_stopped: Callable[[str], None] | None = None
        self._queue: deque[_Queued] = deque()
        self.destroyed.connect(partial(_abandon, self._running))

    def _gone(self) -> bool:
        """True once the C++ side of this runner is deleted: workers connected through
        ``partial`` still deliver to these slots, which must then do nothing."""
        return not shiboken6.isValid(self)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    @property
    def title(self) -> str:
        """The current job's title ("" when no job is current)."""
        return self._title

    def start(
        self,
        title: str,
        job: Job[Any],
        on_done: Callable[[Any], None],
        on_stopped: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``job`` in a worker now, superseding the current job; ``on_done(result)`` is
        called on the GUI thread, ``on_stopped(reason)`` when it ends without a result
        (``"cancelled"``, ``"failed"`` or ``"superseded"``)."""
        if self._current is not None:
            self._quit_current("superseded")
        self._token += 1
        token = self._token
        worker = create_worker(
            _guarded, job, _worker_class=_Worker, _start_thread=False, _ignore_errors=True
        )
        worker.job = job
        # the worker's signal object lives in this (GUI) thread: these run here, queued
        worker.yielded.connect(partial(self._on_yielded, token))
        worker.returned.connect(partial(self._on_returned, token, on_done))
        worker.errored.connect(partial(self._on_errored, token, title))
        worker.finished.connect(partial(self._on_finished, token))
        was_busy = self.busy
        self._running[token] = worker
        self._current = worker
        self._title = title
        self._on_stopped = on_stopped
        self.jobChanged.emit(title)
        if not was_busy:
            self.busyChanged.emit(True)
        worker.start()

    def queue(
        self,
        title: str,
        job: Job[Any],
        on_done: Callable[[Any], None],
        on_stopped: Callable[[str], None] | None = None,
    ) -> bool:
        """Run ``job`` once no worker is left running (at once when idle); True when it
        started now, False when it waits. Queued jobs run in the order queued."""
        if not self.busy and not self._queue:
            self.start(title, job, on_done, on_stopped)
            return True
        self._queue.append(_Queued(title, job, on_done, on_stopped))
        return False

    def is_queued(self, title: str) -> bool:
        return any(q.title == title for q in self._queue)

    def dequeue(self, title: str | None = None) -> None:
        """Drop the waiting jobs named ``title`` (all waiting jobs when None); each is
        closed without having run."""
        kept: deque[_Queued] = deque()
        for q in self._queue:
            if title is None or q.title == title:
                q.job.close()
            else:
                kept.append(q)
        self._queue = kept

    def _start_next(self) -> None:
        if self._queue and not self.busy and not self._gone():
            q = self._queue.popleft()
            self.start(q.title, q.job, q.on_done, q.on_stopped)

    def cancel(self) -> bool:
        """Ask the current job to stop (at its next yield); False when none is running."""
        if self._current is None:
            return False
        title = self._title
        self._quit_current("cancelled")
        self.cancelled.emit(title)
        return True

    def _quit_current(self, reason: str) -> None:
        assert self._current is not None
        self._current.quit()
        self._token += 1  # whatever the old worker still reports is ignored
        stopped = self._on_stopped
        self._finish_current()
        if stopped is not None:
            stopped(reason)

    def _finish_current(self) -> None:
        self._current = None
        self._title = ""
        self._on_stopped = None
        self.jobChanged.emit("")

    # -- what the workers report (on the GUI thread) -------------------------------------------
    def _on_yielded(self, token: int, progress: object) -> None:
        if self._gone():
            return
        if token == self._token and isinstance(progress, Progress):
            self.progressChanged.emit(progress)

    def _on_returned(self, token: int, on_done: Callable[[Any], None], result: object) -> None:
        if self._gone():
            return
        if token == self._token:
            self._finish_current()
            on_done(result)

    def _on_errored(self, token: int, title: str, exc: object) -> None:
        if self._gone():
            return
        if token == self._token:
            stopped = self._on_stopped
            self._finish_current()
            assert isinstance(exc, BaseException)
            self.failed.emit(Failure.from_exception(title, exc))
            if stopped is not None:
                stopped("failed")

    def _on_finished(self, token: int) -> None:
        if self._gone():
            return
        self._running.pop(token, None)
        if not self._running:
            self.busyChanged.emit(False)
            if self._queue:
                QTimer.singleShot(0, self._start_next)

    def shutdown(self, msecs: int = 5000) -> bool:
        """Quit every worker and wait up to ``msecs`` for them (at application exit)."""
        self.dequeue()
        if self._current is not None:
            self._quit_current("cancelled")
        for worker in self._running.values():
            worker.quit()
        return QThreadPool.globalInstance().waitForDone(msecs)
