"""The judgments database is explicit: ``--db`` reaches the workspace the start dialog opens
(and judgments go to that file and nowhere else), the window says which database is in use,
and a screenshot of any view leaves a real database byte for byte as it was."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from clirlens.core.paths import data_dir
from clirlens.core.progress import run
from clirlens.core.types import Run
from clirlens.core.workspace.workspace import Workspace
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.shell import entry, main_window
from clirlens.gui.shell.main_window import MainWindow
from clirlens.gui.shell.registry import VIEWS
from clirlens.storage.repository import JudgmentRepository

from ..conftest import SUBSET

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


def _folder_state(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _campaign_db(path, config) -> None:
    """A real database with a campaign on the workspace's th→en (one judgment in it)."""
    task = run(Workspace(config).task("th", "en"))
    gold = Run.from_scores(
        "gold", {q: {d: 1.0 for d in docs} for q, docs in task.qrels.data.items()}
    )
    with JudgmentRepository.open(path) as repo:
        c = repo.create_campaign(
            "real work", [gold], task.queries, task.corpus, depth=1, directions=["th-en"]
        )
        repo.judge(repo.items(c.name)[0].id, "ana", 1)


def test_screenshots_of_every_view_leave_the_database_untouched(
    config, tmp_path, xquad_dir, model_args, use_shared_cache, fast_dtype, capsys
):
    folder = tmp_path / "team"
    folder.mkdir()
    db = folder / "judgments.sqlite"
    _campaign_db(db, config)
    before = _folder_state(folder)
    assert list(before) == ["judgments.sqlite"]
    base = ["--xquad", str(xquad_dir), "--model", model_args[0], "--model", model_args[1]]
    base += ["--query-langs", "th", "--doc-langs", "en", "--subset", str(SUBSET)]
    base += ["--dtype", fast_dtype, "--db", str(db)]
    for view in VIEWS:
        png = tmp_path / f"{view}.png"
        assert entry.main([*base, "--screenshot", str(png), "--view", view]) == 0, view
        assert png.is_file()
        assert "temporary copy" in capsys.readouterr().err
        assert _folder_state(folder) == before, view  # not a byte changed, nothing added
    with JudgmentRepository.open(db) as repo:
        assert [j.grade for j in repo.judgments("real work")] == [1]


def test_db_reaches_the_start_dialog_and_judgments_go_there_only(
    qtbot, settings, config, tmp_path, use_shared_cache, monkeypatch
):
    db = tmp_path / "named.sqlite"

    class Accepting(main_window.StartDialog):
        """The dialog as a user leaves it: --db in its database field, the test's small
        workspace chosen (the rest of the form is the dialog's own)."""

        def config(self):
            return dataclasses.replace(config, db=self.db_edit.text().strip() or None)

        def exec(self) -> int:
            assert self.db_edit.text() == str(db)  # --db shown in the dialog
            self.accept()
            return self.result()

    monkeypatch.setattr(main_window, "StartDialog", Accepting)
    window = MainWindow(WorkspaceController(), settings, db=str(db))
    qtbot.addWidget(window)
    window.show()
    assert str(db) in window.db_label.text()  # the window says which database
    assert window.open_dialog()
    ws = window.controller.workspace
    assert ws is not None and ws.config.db == str(db)
    assert settings.last_workspace.db == str(db)  # saved with the workspace
    repo = window.context.judgments.repository()
    assert repo is not None and str(db) in window.db_label.text()
    window.controller.shutdown()
    window.context.judgments.close()
    assert db.is_file() and not (data_dir() / "judgments.sqlite").exists()


def test_switching_database_keeps_the_old_one_and_refuses_a_bad_file(
    qtbot, settings, config, tmp_path, use_shared_cache
):
    window = MainWindow(WorkspaceController(), settings)
    qtbot.addWidget(window)
    window.show()
    first = tmp_path / "first.sqlite"
    assert window.open_workspace(dataclasses.replace(config, db=str(first)))
    assert window.context.judgments.repository() is not None
    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n")
    assert not window.switch_database(str(bad))
    assert "notes.txt" in window.message_bar.message
    assert bad.read_text() == "not a database\n"
    assert window.controller.workspace.config.db == str(first)
    second = tmp_path / "second.sqlite"
    assert window.switch_database(str(second))
    assert window.controller.workspace.config.db == str(second)
    assert str(second) in window.db_label.text() and second.is_file()
    assert settings.last_workspace.db == str(second)
    window.controller.shutdown()
    window.context.judgments.close()
