"""Driver of the Xvfb smoke test (not collected by pytest): starts the real application as
``clirlens`` does, with the arguments given, on Qt's xcb platform; once the workspace is
prepared it saves what the X server shows of the window and closes it as a user would.
Exit code: the application's."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from clirlens.gui.shell.entry import main
from clirlens.gui.shell.main_window import MainWindow


def watch(shot: str) -> None:
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    c = windows[0].controller if windows else None
    if c is None or c.comparison is None or c.jobs.busy or c.query_view is None:
        QTimer.singleShot(200, lambda: watch(shot))
        return
    QTimer.singleShot(1000, lambda: finish(windows[0], shot))  # once it has painted


def finish(window: MainWindow, shot: str) -> None:
    print(f"platform={QApplication.platformName()} title={window.windowTitle()}", flush=True)
    window.screen().grabWindow(window.winId()).save(shot)  # pixels from the X server
    window.close()


if __name__ == "__main__":
    shot, argv = sys.argv[1], sys.argv[2:]
    app = QApplication([sys.argv[0]])
    QTimer.singleShot(0, lambda: watch(shot))
    sys.exit(main(argv))
