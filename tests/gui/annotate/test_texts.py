"""The judging screen's texts come from the workspace: a direction that is not prepared is
read by a job on the window's runner, never on the GUI thread, and the item is redrawn
when its text arrives."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from clirlens.core.progress import run
from clirlens.core.types import Query
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace
from clirlens.gui.annotate.texts import LOADING, TextSource
from clirlens.gui.services.jobs import JobRunner
from clirlens.storage.pool import text_hash
from clirlens.storage.records import PoolItem

pytestmark = pytest.mark.xquad


def test_unprepared_direction_is_read_by_a_job(qtbot, xquad_dir, monkeypatch):
    ws = Workspace(
        WorkspaceConfig(
            str(xquad_dir),
            models=("bm25", "me5-small"),
            query_langs=("th",),
            doc_langs=("en",),
            subset=2,
        )
    )
    controller = SimpleNamespace(workspace=ws, jobs=JobRunner())
    readers: list[bool] = []
    task_job = ws.task

    def task(q, d):
        readers.append(threading.current_thread() is threading.main_thread())
        return (yield from task_job(q, d))

    monkeypatch.setattr(ws, "task", task)
    loaded = []
    texts = TextSource(controller, on_loaded=lambda: loaded.append(1))
    gold = run(task_job("th", "en"))
    query = gold.queries[0]
    pid = next(iter(gold.qrels.relevant(query.id)))
    passage = next(p for p in gold.corpus if p.id == pid)
    item = PoolItem(
        1, "c", 0, Query(query.id, query.text, "th"), pid, "en", text_hash(passage.text), ()
    )

    shown, problem = texts.passage(item)
    assert shown is None and LOADING in problem and controller.jobs.busy
    texts.passage(item)  # asked again while reading: still one job
    qtbot.waitUntil(lambda: loaded == [1], timeout=10_000)
    assert readers == [False]  # read in the worker thread, once
    shown, problem = texts.passage(item)
    assert shown == passage and problem == ""
    assert texts.answers(item) and texts.parallel(item).lang == "en"
