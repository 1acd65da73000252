"""The window fits a laptop: every view fits 1366 x 768 with the query dock shown and
1024 x 700 with it hidden; it never grows by itself; a restored geometry stays on screen."""

from __future__ import annotations

import dataclasses

import pytest

from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.shell.main_window import MainWindow

from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


def test_every_view_fits_a_laptop_screen(window, config, qtbot):
    assert window.open_workspace(dataclasses.replace(config, subset=1))
    wait_prepared(qtbot, window.controller)
    window.resize(1366, 768)
    for name in window.views:
        window.show_view(name)
        if name == "align":
            window.views["align"].wait_ready(120)
        qtbot.wait(20)
        window.browser_dock.show()
        qtbot.wait(5)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1366 and hint.height() <= 768, (name, hint)
        window.browser_dock.hide()
        qtbot.wait(5)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, (name, hint)
        window.browser_dock.show()


def test_the_window_never_grows_by_itself(window, config, qtbot):
    assert window.open_workspace(dataclasses.replace(config, subset=1))
    wait_prepared(qtbot, window.controller)
    window.resize(1366, 768)
    window.show_view("align")
    view = window.views["align"]
    assert view.wait_ready(120)
    size = window.size()
    for step in range(20):  # ε from 0.001 to 1 and back: labels of every width
        view.eps_slider.setValue(-3.0 + 3.0 * ((step * 7) % 20) / 19)
        qtbot.wait(10)
        assert window.size() == size
    view.wait_ready(120)
    assert window.size() == size


def test_a_geometry_larger_than_the_screen_is_brought_onto_it(qtbot, settings):
    first = MainWindow(WorkspaceController(), settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(2600, 1700)  # saved on a bigger screen, or at another scale factor
    first.move(-900, -400)
    first.save_settings()
    first.close()
    again = MainWindow(WorkspaceController(), settings)
    qtbot.addWidget(again)
    again.show()
    area = again.screen().availableGeometry()
    frame = again.frameGeometry()
    assert frame.width() <= area.width() and frame.height() <= area.height()
    assert area.contains(frame.topLeft()) and area.contains(frame.bottomRight())
