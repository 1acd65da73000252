"""Background WAL checkpoints for a SQLite judgments file.

With ``synchronous=NORMAL`` a commit is an append to the ``-wal`` file that reaches the
operating system before the call returns (so it survives the process being killed) but is
fsynced only when the WAL is checkpointed. Left to SQLite, that checkpoint runs inside some
unlucky commit every ~1000 pages — a stall of two fsyncs — and in between, a power cut could lose
every commit since the previous one (minutes of a human's judging).

:class:`Checkpointer` moves that work off the caller's path: a daemon thread with its own
connection runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds when the WAL has
grown. A passive checkpoint fsyncs the WAL, copies the pages it can into the database without
waiting for any reader or writer, and fsyncs the database; writers keep appending meanwhile.
So a judge call never pays for an fsync, and a power cut can lose at most the last
``interval`` seconds of judgments. The connections of the engine keep SQLite's automatic
checkpoint only as a safety net (at :data:`AUTOCHECKPOINT_PAGES`), in case the thread is not
running.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 1.0  # seconds: the power-loss window
AUTOCHECKPOINT_PAGES = 20_000  # safety net for connections of an engine with a checkpointer


class Checkpointer:
    def __init__(self, path: Path, interval: float = DEFAULT_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"clirlens-checkpoint:{path.name}", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        try:
            con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:  # the engine will report problems with the file
            log.warning("WAL checkpointer for %s not started: %s", self.path, exc)
            return
        try:
            con.execute("PRAGMA synchronous = NORMAL")
            while not self._stop.wait(self.interval):
                self._checkpoint(con)
            self._checkpoint(con)  # once more on stop: what was judged is on disk
        finally:
            con.close()

    def _checkpoint(self, con: sqlite3.Connection) -> None:
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # busy, or the file went away: try again next time
            log.debug("WAL checkpoint of %s skipped: %s", self.path, exc)

    def stop(self, timeout: float = 30.0) -> None:
        """Run a last checkpoint and end the thread (idempotent)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
