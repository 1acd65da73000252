"""GUI test set-up: offscreen Qt (set before Qt is imported), per-test settings files, and
a workspace over the first articles of XQuAD with the real small test models."""

from __future__ import annotations

import gc
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from clirlens.gui.shell.app import offscreen_screen

offscreen_screen()  # before Qt starts: a 1920 x 1200 virtual screen, as the application gets

SUBSET = 3  # XQuAD articles: 15 passages, 105 questions


@pytest.fixture(scope="module", autouse=True)
def _gc_on_gui_thread(qapp):
    """As in the application: cyclic GC on the GUI thread only (see gui/shell/gc_guard.py);
    back to normal after each GUI test module."""
    from clirlens.gui.shell.gc_guard import install

    guard = install(qapp)
    yield
    guard.stop()


@pytest.fixture(autouse=True)
def _collect_after_test(qapp):
    """Garbage of a finished test (closed windows) is collected here, on the GUI thread."""
    yield
    qapp.processEvents()
    gc.collect()


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the GUI tests: embeddings and weight hashes computed once."""
    return tmp_path_factory.mktemp("gui-cache")


@pytest.fixture()
def use_shared_cache(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIRLENS_CACHE_DIR", str(shared_cache))
    return shared_cache


@pytest.fixture()
def settings(tmp_path: Path):
    from clirlens.gui.services.settings import Settings

    return Settings.at(tmp_path / "settings.ini")


@pytest.fixture(scope="session")
def model_args(me5_dir: Path, minilm_dir: Path) -> tuple[str, str]:
    return (f"me5-small={me5_dir}", str(minilm_dir))


@pytest.fixture()
def config(xquad_dir: Path, model_args: tuple[str, str], fast_dtype: str):
    from clirlens.core.workspace.config import WorkspaceConfig

    return WorkspaceConfig(
        str(xquad_dir),
        models=model_args,
        query_langs=("th", "hi"),
        doc_langs=("en",),
        subset=SUBSET,
        dtype=fast_dtype,
    )


@pytest.fixture()
def window(qtbot, settings, use_shared_cache: Path):
    from clirlens.core.retrieval.cache import Cache
    from clirlens.gui.services.controller import WorkspaceController
    from clirlens.gui.shell.main_window import MainWindow

    controller = WorkspaceController(cache=Cache(use_shared_cache))
    win = MainWindow(controller, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    controller.shutdown()
