"""Python's cyclic garbage collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when its thresholds are crossed.
When that is a worker thread (encoding, indexing) and the garbage holds Qt objects — a
closed dialog or window caught in a reference cycle — their C++ destructors run off the GUI
thread and the process crashes. :class:`MainThreadGC` switches automatic collection off and
collects from a timer on the GUI thread instead, with the same generation thresholds
(the approach of PyQt's well-known "GarbageCollector" recipe). Reference counting, which
frees almost everything, is unaffected.

Collections run on the GUI thread, so they must stay short. The timer checks every 50 ms.
When more than :data:`BULK` objects appeared since the last check, a worker is importing
torch, loading a model or reading a dataset: objects that live on; they are frozen
(:func:`gc.freeze`, which costs nothing) instead of traversed, and so are the survivors of a
full collection. Later collections then only look at what is new. (Only *cyclic* garbage
among frozen objects is never reclaimed; reference counting frees the rest as usual.)
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

BULK = 20_000  # new container objects within one 50 ms check: a bulk load, not churn


class MainThreadGC(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = 50) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.start()

    def start(self) -> None:
        if not self.timer.isActive():
            self.was_enabled = gc.isenabled()
            gc.disable()
            self.timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        if counts[0] > BULK:
            gc.freeze()
            return
        generation = -1
        for g in range(3):
            if counts[g] > self.threshold[g]:
                generation = g
        if generation >= 0:
            gc.collect(generation)
        if generation == 2:
            gc.freeze()

    def stop(self) -> None:
        """Back to automatic collection (after collecting once here)."""
        if self.timer.isActive():
            self.timer.stop()
            gc.collect()
            if self.was_enabled:
                gc.enable()


def install(app: QCoreApplication) -> MainThreadGC:
    """The application's collector (one, a child of ``app``), running."""
    guard = app.findChild(MainThreadGC)
    if guard is None:
        return MainThreadGC(app)
    guard.start()
    return guard
