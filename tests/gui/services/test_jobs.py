"""Long work in workers: cancel mid-indexing leaves the app usable and the cache
consistent; errors (opening, in a worker, unexpected) reach the message area, never a
crash; the JobRunner's contract on its own."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from clirlens.core.errors import DataError
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Progress
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.jobs import Failure, JobRunner
from clirlens.gui.shell.main_window import MainWindow

from ..helpers import wait_prepared


def _entries_intact(root: Path) -> list[str]:
    """Problems of the cache's entries ([] when every entry is whole and checksummed)."""
    problems = []
    for kind in ("embeddings", "index"):
        folder = root / kind
        for entry in sorted(folder.iterdir()) if folder.exists() else []:
            if entry.name.startswith("."):
                problems.append(f"temporary leftover {entry}")
            elif Cache(root).load(kind, entry.name, {}) is None:
                problems.append(f"damaged {entry}")
    return problems


@pytest.mark.models
@pytest.mark.xquad
@pytest.mark.slow
def test_cancel_mid_indexing_keeps_app_usable_and_cache_consistent(
    qtbot, settings, config, tmp_path, use_shared_cache
):
    cache_root = tmp_path / "fresh-cache"
    controller = WorkspaceController(cache=Cache(cache_root))
    window = MainWindow(controller, settings)
    qtbot.addWidget(window)
    window.show()
    config = WorkspaceConfig(**{**config.to_dict(), "subset": 6, "batch_size": 1})
    seen: list[Progress] = []
    labels: list[str] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if p.total > 0:
            labels.append(window.progress.label.text())
        if "encoding passages" in p.message and window.progress.cancel_button.isEnabled():
            qtbot.mouseClick(window.progress.cancel_button, Qt.MouseButton.LeftButton)

    controller.jobs.progressChanged.connect(on_progress)
    assert window.open_workspace(config)
    assert window.progress.isVisible() or controller.jobs.busy
    cursor = QApplication.overrideCursor()  # the busy cursor while the job runs
    assert cursor is not None and cursor.shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: not controller.jobs.busy, timeout=120_000)
    assert QApplication.overrideCursor() is None  # and back once it is cancelled
    controller.jobs.progressChanged.disconnect(on_progress)
    assert any(" / " in text for text in labels)  # counts beside the message
    encoding = [p for p in seen if "encoding passages" in p.message]
    assert encoding and encoding[-1].done < encoding[-1].total  # stopped mid-way
    assert controller.comparison is None
    assert not window.progress.isVisible()
    compare = window.views["compare"]
    assert compare.retry_button.isVisible()
    assert "cancelled" in window.statusBar().currentMessage()
    assert _entries_intact(cache_root) == []
    assert not window.message_bar.isVisible()  # a cancel is not an error
    # still usable: prepare again, browse
    qtbot.mouseClick(compare.retry_button, Qt.MouseButton.LeftButton)
    wait_prepared(qtbot, controller)
    assert len(controller.rows) == len(controller.comparison.task.queries) > 105
    controller.step_query(3)
    assert controller.current_query == controller.rows[3].query.id
    assert _entries_intact(cache_root) == []
    controller.shutdown()


def test_bad_dataset_folder_shows_error_and_keeps_window(window, tmp_path, qtbot):
    missing = WorkspaceConfig(str(tmp_path / "no-such-folder"), models=("bm25", "bm25"))
    assert not window.open_workspace(missing)
    bar = window.message_bar
    assert bar.isVisible() and "XQuAD folder not found" in bar.message
    assert not bar.details_button.isVisible()  # a user error explains itself
    assert window.isVisible() and window.controller.workspace is None
    # a folder whose files are broken fails in the worker: same place, window alive
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "xquad.en.json").write_text('{"data": [')
    (broken / "xquad.th.json").write_text(json.dumps({"data": []}))
    assert window.open_workspace(
        WorkspaceConfig(
            str(broken), models=("bm25", "bm25"), query_langs=("th",), doc_langs=("en",)
        )
    )
    assert not bar.isVisible()  # opening succeeded: old message dismissed
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=30_000)
    assert "invalid JSON" in bar.message and "xquad.en.json" in bar.message
    qtbot.waitUntil(lambda: not window.controller.jobs.busy, timeout=10_000)
    assert window.isVisible()
    assert window.views["compare"].retry_button.isVisible()
    bar.dismiss()
    assert not bar.isVisible()


def _job(result=None, fail: BaseException | None = None, steps: int = 3, block=None):
    for i in range(steps):
        if block is not None:
            block.wait(5)
        yield Progress(i, steps, f"step {i}")
    if fail is not None:
        raise fail
    return result


def test_job_runner_results_and_failures(qtbot):
    runner = JobRunner()
    results, failures, progress, threads = [], [], [], set()
    runner.failed.connect(failures.append)
    runner.progressChanged.connect(progress.append)
    runner.progressChanged.connect(lambda _: threads.add(threading.current_thread().name))
    with qtbot.waitSignal(
        runner.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy
    ):
        runner.start("ok", _job(42), results.append)
    assert results == [42] and [p.done for p in progress] == [0, 1, 2]
    assert threads == {threading.main_thread().name}  # relayed to the GUI thread
    for exc, expected, text in [
        (DataError("bad.json: invalid JSON"), True, "bad.json: invalid JSON"),
        # superqt swallows a worker's RuntimeError as "deleted worker": must still arrive
        (RuntimeError("boom"), False, "unexpected error: RuntimeError: boom"),
        (KeyError("x"), False, "unexpected error: KeyError: 'x'"),
    ]:
        with qtbot.waitSignal(
            runner.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy
        ):
            runner.start("failing", _job(fail=exc), results.append)
        failure: Failure = failures[-1]
        assert (failure.message, failure.expected) == (text, expected)
        if not expected:
            assert "Traceback" in failure.details
    assert results == [42]


def test_job_runner_cancel_closes_the_job_in_its_thread(qtbot):
    runner = JobRunner()
    gate = threading.Event()
    closed_in = []

    def job():
        try:
            yield Progress(0, 0, "started")
            yield from _job(steps=100, block=gate)
        finally:
            closed_in.append(threading.current_thread() is threading.main_thread())

    results = []
    cancelled = []
    runner.cancelled.connect(cancelled.append)
    with qtbot.waitSignal(runner.progressChanged, timeout=10_000):
        runner.start("long", job(), results.append)
    assert runner.cancel() and cancelled == ["long"]
    assert runner.title == "" and runner.busy  # winding down until the next yield
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert closed_in == [False]  # the job's finally ran in the worker thread
    assert results == []
    assert not runner.cancel()


def test_a_deleted_runner_stops_its_worker_and_drops_its_reports(qtbot):
    """A view's runner deleted with its window while a job still yields: no 'Signal source
    has been deleted' error reaches the event loop, and the job stops at its next yield."""
    import shiboken6

    stopped = threading.Event()
    started = threading.Event()

    def job():
        try:
            for i in range(10_000):
                started.set()
                yield Progress(i, 10_000, "ticking")
                threading.Event().wait(0.005)
        finally:
            stopped.set()

    runner = JobRunner()
    runner.start("ticks", job(), lambda _: None)
    assert started.wait(5)
    shiboken6.delete(runner)
    qtbot.waitUntil(stopped.is_set, timeout=5000)
    for _ in range(20):  # deliver whatever the worker queued before it stopped
        qtbot.wait(10)


def test_job_runner_queues_after_the_running_job_and_reports_why_a_job_stopped(qtbot):
    """queue() waits for the running job (never two at once), runs waiting jobs in order,
    drops a dequeued one unrun; start() supersedes; each stopped job says why."""
    runner = JobRunner()
    gate = threading.Event()
    order, stopped, ran = [], [], []

    def tracked(name, **kw):
        def job():
            ran.append(name)
            return (yield from _job(name, **kw))

        return job()

    runner.start("first", tracked("first", steps=50, block=gate), order.append)
    assert runner.busy
    assert not runner.queue("second", tracked("second"), order.append)
    assert not runner.queue("dropped", tracked("dropped"), order.append)
    assert not runner.queue("third", tracked("third"), order.append)
    assert runner.is_queued("dropped")
    runner.dequeue("dropped")
    assert not runner.is_queued("dropped")
    gate.set()
    qtbot.waitUntil(lambda: order == ["first", "second", "third"], timeout=10_000)
    assert "dropped" not in ran and not runner.is_queued("third")

    gate.clear()
    runner.start("slow", tracked("slow", steps=50, block=gate), order.append, stopped.append)
    qtbot.waitUntil(lambda: "slow" in ran, timeout=10_000)
    runner.start("faster", tracked("faster"), order.append)  # supersedes "slow"
    gate.set()
    qtbot.waitUntil(lambda: order[-1] == "faster" and not runner.busy, timeout=10_000)
    assert stopped == ["superseded"] and "slow" not in order
    runner.start(
        "cancelled", tracked("cancelled", steps=50, block=gate), order.append, stopped.append
    )
    assert runner.cancel() and stopped == ["superseded", "cancelled"]
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    runner.start("failing", _job(fail=KeyError("x")), order.append, stopped.append)
    qtbot.waitUntil(lambda: stopped[-1:] == ["failed"], timeout=10_000)
