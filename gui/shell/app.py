"""Starting the application window, and its screenshot mode (``--screenshot FILE``)."""

from __future__ import annotations

import dataclasses
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.jobs import Failure
from clirlens.gui.services.settings import Settings
from clirlens.gui.shell import gc_guard
from clirlens.gui.shell.main_window import MainWindow
from clirlens.gui.widgets.style import apply_style

SCREENSHOT_SIZE = (1366, 768)  # a common laptop screen: every view fits it
# harmless platform notes (the offscreen plugin, fonts without an OpenType table for a
# script that a fallback font then renders): not worth a line on stderr
_QUIET = ("This plugin does not support propagateSizeHints()",)


def _qt_messages(mode, context, message: str) -> None:
    if message in _QUIET or message.startswith("OpenType support missing"):
        return
    print(message, file=sys.stderr)


def offscreen_screen() -> None:
    """Qt's offscreen platform (headless machines, screenshots, tests) pretends an 800 x 800
    screen, which the window is kept inside; give it a 1920 x 1200 one instead (the
    assets' screen description), unless one was configured."""
    if os.environ.get("QT_QPA_PLATFORM", "").strip() == "offscreen":
        from importlib import resources

        config = resources.files("clirlens.assets").joinpath("offscreen-screens.json")
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def application() -> QApplication:
    """The QApplication (created once), named for QSettings and styled."""
    app = QApplication.instance()
    if app is None:
        offscreen_screen()
        app = QApplication([sys.argv[0] if sys.argv else "clirlens"])
    assert isinstance(app, QApplication)
    qInstallMessageHandler(_qt_messages)
    app.setOrganizationName("clirlens")
    app.setApplicationName("clirlens")
    apply_style(app)
    gc_guard.install(app)  # collect cycles on the GUI thread, never in a worker
    return app


def install_excepthook(controller: WorkspaceController) -> None:
    """Unexpected exceptions in slots go to the message area (and stderr), not to a crash."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        traceback.print_exception(kind, value, tb)
        controller.report("Unexpected error", value)

    sys.excepthook = hook


def run_app(
    config: WorkspaceConfig | None,
    *,
    screenshot: str | None = None,
    view: str = "compare",
    settings: Settings | None = None,
    db: str | None = None,
    geometry: tuple[int, int] | None = None,
) -> int:
    """The application; ``db`` (``--db``) is the judgments database of the workspace the start
    dialog opens when no workspace is given."""
    app = application()
    if settings is None:  # a screenshot neither reads nor writes the user's settings
        settings = Settings.at(_scratch_settings()) if screenshot else Settings()
    controller = WorkspaceController()
    window = MainWindow(controller, settings, persist=screenshot is None, db=db)
    if screenshot is not None:
        assert config is not None
        return save_screenshot(window, config, Path(screenshot), view, geometry or SCREENSHOT_SIZE)
    install_excepthook(controller)
    window.show()
    initial = config or settings.last_workspace
    if initial is None:
        QTimer.singleShot(0, window.open_dialog)
    else:

        def start() -> None:
            if not window.open_workspace(initial) and config is None:
                window.open_dialog()  # the remembered workspace is gone: choose another

        QTimer.singleShot(0, start)
    return app.exec()


def _scratch_settings() -> Path:
    """A settings file that is only read (and does not exist): defaults everywhere."""
    import os
    import tempfile

    return Path(tempfile.gettempdir()) / f"clirlens-screenshot-{os.getpid()}.ini"


def wait_until_prepared(controller: WorkspaceController, timeout_s: float = 1800) -> Failure | None:
    """Run the event loop until the current direction is prepared; the error if it failed
    (or a timeout note)."""
    errors: list[Failure] = []
    if controller.comparison is not None:
        return None
    loop = QEventLoop()

    def on_error(failure: Failure) -> None:
        errors.append(failure)
        loop.quit()

    def on_comparison() -> None:
        if controller.comparison is not None:
            loop.quit()

    def on_busy(busy: bool) -> None:
        if not busy and controller.comparison is None:
            loop.quit()

    controller.errorOccurred.connect(on_error)
    controller.comparisonChanged.connect(on_comparison)
    controller.jobs.busyChanged.connect(on_busy)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    controller.errorOccurred.disconnect(on_error)
    controller.comparisonChanged.disconnect(on_comparison)
    controller.jobs.busyChanged.disconnect(on_busy)
    if errors:
        return errors[0]
    if controller.comparison is None:
        return Failure("Preparing", "the workspace was not prepared in time", "", True)
    return None


def scratch_copy(config: WorkspaceConfig) -> WorkspaceConfig:
    """``config`` with its judgments database replaced by a temporary copy (removed at exit):
    the SQLite file and its write-ahead log are copied byte for byte, without opening the
    original, so nothing the screenshot does can change it. A server database (PostgreSQL)
    is not used at all: the screenshot then judges in a scratch file."""
    if not config.db:
        return config
    import atexit
    import shutil
    import tempfile

    from clirlens.storage.db import resolve_url, sqlite_path

    original = sqlite_path(resolve_url(config.db))
    scratch = Path(tempfile.mkdtemp(prefix="clirlens-screenshot-"))
    atexit.register(shutil.rmtree, scratch, True)
    copy = scratch / "judgments.sqlite"
    if original is None:
        print(
            f"clirlens: note: the screenshot does not open {config.db}: it judges in a "
            "scratch database",
            file=sys.stderr,
        )
        return dataclasses.replace(config, db=None)
    if original.is_file():
        for suffix in ("", "-wal"):
            source = original.with_name(original.name + suffix)
            if source.is_file():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
    print(
        f"clirlens: note: the screenshot works on a temporary copy of {original}; "
        "nothing is written to it",
        file=sys.stderr,
    )
    return dataclasses.replace(config, db=str(copy))


def save_screenshot(
    window: MainWindow,
    config: WorkspaceConfig,
    path: Path,
    view: str,
    size: tuple[int, int] = SCREENSHOT_SIZE,
) -> int:
    """Open ``config``, wait for it, select the first query, show ``view`` and save the
    window as an image (PNG by extension). 0 on success, 2 with one line on stderr.

    A screenshot never writes to the judgments database it is given: it works on a
    temporary copy of it (:func:`scratch_copy`), and says so on stderr."""
    config = scratch_copy(config)
    controller = window.controller
    errors: list[Failure] = []
    controller.errorOccurred.connect(errors.append)
    window.resize(*size)
    window.show_view(view)
    window.show()
    if window.open_workspace(config):
        failure = wait_until_prepared(controller)
        if failure is not None:
            errors.append(failure)
    if errors:
        print(f"clirlens: error: {errors[0].message}", file=sys.stderr)
        window.close()
        return 2
    if controller.rows:
        controller.select_query(controller.rows[0].query.id)
    prepare = getattr(window.views[view], "prepare_screenshot", None)  # e.g. annotate, evaluate
    problem = prepare() if prepare is not None else None
    if problem:
        print(f"clirlens: error: {problem}", file=sys.stderr)
        window.close()
        return 2
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    wait_ready = getattr(window.views.get(view), "wait_ready", None)
    if callable(wait_ready):  # a view that computes once the query is shown (align)
        wait_ready()
        for _ in range(5):
            app.processEvents()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        window.close()
        print(
            f"clirlens: error: cannot create the folder of {path} ({exc.strerror})", file=sys.stderr
        )
        return 2
    ok = window.grab().save(str(path))
    window.close()
    if not ok:
        print(f"clirlens: error: cannot write the screenshot {path}", file=sys.stderr)
        return 2
    return 0
