"""Settings: typed round-trips through a temporary QSettings file, and a reopened window
restores layout and the last workspace, reusing cached embeddings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from clirlens.core.retrieval.cache import Cache
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.settings import MAX_RECENT, Settings
from clirlens.gui.shell.main_window import MainWindow

from ..helpers import wait_prepared


def test_typed_round_trip(tmp_path):
    path = tmp_path / "s.ini"
    s = Settings.at(path)
    assert s.geometry is None and s.window_state is None
    assert s.recent_workspaces == [] and s.last_workspace is None
    assert s.current_view == "compare" and s.model_folders == [] and s.download_dir == ""
    configs = [
        WorkspaceConfig(f"/data/{i}", models=("bm25", f"m{i}"), subset=i + 1)
        for i in range(MAX_RECENT + 2)
    ]
    for c in configs:
        s.remember_workspace(c)
    s.remember_workspace(configs[3])  # again: moves to the front, no duplicate
    s.add_model_folders(["/models/a", "/models/b"])
    s.add_model_folders(["/models/a"])
    s.download_dir = "/tmp/xq"
    s.current_view = "align"
    s.sync()
    back = Settings.at(path)
    assert back.last_workspace == configs[3]
    recent = back.recent_workspaces
    assert recent[0] == configs[3] and len(recent) == MAX_RECENT
    assert recent[1] == configs[-1] and len(set(map(repr, recent))) == MAX_RECENT
    assert back.model_folders == ["/models/a", "/models/b"]
    assert back.download_dir == "/tmp/xq" and back.current_view == "align"
    back.clear_recent()
    back.last_workspace = None
    assert back.recent_workspaces == [] and back.last_workspace is None


def test_damaged_values_are_ignored(tmp_path):
    path = tmp_path / "s.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    raw.setValue("workspaces/recent", "[{not json")
    raw.setValue("workspaces/last", '{"kind": "xquad"}')  # no dataset
    raw.setValue("models/folders", '{"a": 1}')
    raw.setValue("window/geometry", "not bytes")
    raw.sync()
    s = Settings.at(path)
    assert s.recent_workspaces == [] and s.last_workspace is None
    assert s.model_folders == [] and s.geometry is None


@pytest.mark.models
@pytest.mark.xquad
def test_reopened_window_restores_layout_and_workspace(qtbot, tmp_path, config, use_shared_cache):
    path = tmp_path / "settings.ini"
    first = MainWindow(WorkspaceController(cache=Cache(use_shared_cache)), Settings.at(path))
    qtbot.addWidget(first)
    first.show()
    screen = first.screen().availableGeometry()  # restoreGeometry keeps windows on screen
    size = (min(760, screen.width() - 40), min(560, screen.height() - 40))
    first.resize(*size)
    first.browser_dock.setFloating(False)
    assert first.open_workspace(config)
    wait_prepared(qtbot, first.controller)
    size = (first.width(), first.height())  # as the window's minimum size allows
    first.close()

    s = Settings.at(path)
    assert s.last_workspace == config and s.recent_workspaces == [config]
    assert s.geometry is not None and s.window_state is not None
    controller = WorkspaceController(cache=Cache(use_shared_cache))
    second = MainWindow(controller, s)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
    assert second.current_view == "compare"
    assert second.open_workspace(s.last_workspace)
    wait_prepared(qtbot, controller)
    # cached embeddings reused: no encoding, every cache lookup a hit
    for m in range(2):
        events = controller.workspace.retriever(m, "en").cache.events
        assert events and all(e.startswith("hit:") for e in events)
    assert controller.rows and controller.query_view is not None
    second.close()
