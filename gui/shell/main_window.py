"""The main window: menus, the query browser dock, the central views (one per entry of
:mod:`clirlens.gui.shell.registry`, in a stacked area), the message area for errors and the
status bar with the job progress and Cancel.

Window layout, the current view and the workspaces opened are remembered through
:class:`~clirlens.gui.services.settings.Settings`.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace
from clirlens.gui.compare.export import export_comparison
from clirlens.gui.services.context import AppContext
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.jobs import Failure
from clirlens.gui.services.settings import Settings
from clirlens.gui.shell.help import build_help_menu
from clirlens.gui.shell.registry import VIEWS
from clirlens.gui.shell.status import BlindBar, MessageBar, ProgressPanel
from clirlens.gui.start.dialog import StartDialog
from clirlens.gui.widgets.directions import PrepareDirectionsDialog
from clirlens.gui.widgets.keys import shortcut
from clirlens.gui.widgets.query_browser import QueryBrowser


def _validate(config: WorkspaceConfig) -> str | None:
    try:
        Workspace(config)
    except UserError as exc:
        return str(exc)
    return None


class MainWindow(QMainWindow):
    def __init__(
        self,
        controller: WorkspaceController,
        settings: Settings,
        *,
        persist: bool = True,
        db: str | None = None,
    ) -> None:
        super().__init__()
        self.context = AppContext.create(controller, settings, persist=persist)
        self.controller = controller
        self._cursor_set = False  # the busy cursor is on (see _busy_cursor)
        self.settings = settings
        self.persist = persist
        self.setWindowTitle("clirlens")
        self.setObjectName("mainWindow")
        self.resize(1280, 760)  # fits a 1366 x 768 laptop screen with its panel

        self.message_bar = MessageBar()
        self.blind_bar = BlindBar(self.context.judgments.close_session)
        self.stack = QStackedWidget()
        self.views: dict[str, QWidget] = {}
        for spec in VIEWS.values():
            try:
                widget = spec.create(self.context, self.stack)
            except Exception as exc:  # one broken view must not take the window down
                self.message_bar.show_failure(Failure.from_exception(f"The {spec.title} view", exc))
                widget = QLabel(f"The {spec.title} view could not be created: {exc}")
                widget.setObjectName("placeholder")
                widget.setWordWrap(True)
            self.views[spec.name] = widget
            self.stack.addWidget(widget)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.blind_bar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.browser = QueryBrowser(controller)
        self.browser_dock = QDockWidget("Queries", self)
        self.browser_dock.setObjectName("queryBrowserDock")
        self.browser_dock.setWidget(self.browser)
        self.browser_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.browser_dock)
        self.resizeDocks([self.browser_dock], [470], Qt.Orientation.Horizontal)

        self.default_db = db  # --db: for a workspace the start dialog opens
        self.progress = ProgressPanel(controller.jobs)
        self.statusBar().addPermanentWidget(self.progress, 1)
        self.db_label = QLabel()
        self.db_label.setObjectName("dbLabel")
        self.statusBar().addPermanentWidget(self.db_label)
        self.context.judgments.databaseChanged.connect(self._show_database)
        self._show_database(self.context.judgments.database_text(db))
        self._build_menus()
        shortcut(self, "Ctrl+F", self.browser.focus_filter, "filter the query list", "Queries")
        shortcut(self, "Ctrl+L", self.browser.focus_free_text, "type a free-text query", "Queries")
        self._tab_order()

        controller.errorOccurred.connect(self._on_error)
        controller.errorResolved.connect(self.message_bar.resolve)
        controller.blindChanged.connect(self._on_blind_changed)
        controller.viewRequested.connect(self._on_view_requested)
        controller.statusChanged.connect(self._on_status)
        controller.workspaceChanged.connect(self._on_workspace_changed)
        controller.directionChanged.connect(self._on_workspace_changed)
        controller.jobs.busyChanged.connect(self._busy_cursor)
        self._restore()

    # -- menus -------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open workspace…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.open_dialog)
        file_menu.addAction(open_action)
        self.recent_menu = file_menu.addMenu("&Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        export = QAction("&Export comparison…", self)
        export.setShortcut(QKeySequence("Ctrl+E"))
        export.setStatusTip("a self-contained HTML page of both ranked lists and OT plans")
        export.triggered.connect(lambda: export_comparison(self.context, self))
        file_menu.addAction(export)
        file_menu.addSeparator()
        switch_db = QAction("Switch judgments &database…", self)
        switch_db.setStatusTip("keep the judgments in another SQLite file (or a new one)")
        switch_db.triggered.connect(self._switch_database_dialog)
        file_menu.addAction(switch_db)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        # one undo stack of judgment edits for the whole application (docs/architecture.md §2.4)
        edit_menu = self.menuBar().addMenu("&Edit")
        stack = self.context.judgments.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            edit_menu.addAction(action)

        view_menu = self.menuBar().addMenu("&View")
        self.view_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for i, spec in enumerate(VIEWS.values(), start=1):
            action = QAction(spec.title, self, checkable=True)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.setStatusTip(spec.description)
            action.triggered.connect(lambda _=False, n=spec.name: self.show_view(n))
            group.addAction(action)
            view_menu.addAction(action)
            self.view_actions[spec.name] = action
        view_menu.addSeparator()
        view_menu.addAction(self.browser_dock.toggleViewAction())
        prepare = QAction("Prepare &directions…", self)
        prepare.setStatusTip("prepare several directions ahead, in one job")
        prepare.triggered.connect(self._prepare_directions_dialog)
        view_menu.addAction(prepare)
        retry = QAction("&Prepare again", self)
        retry.setStatusTip("prepare the current direction again after a cancel or an error")
        retry.triggered.connect(self.controller.retry)
        view_menu.addAction(retry)

        build_help_menu(self)

    def _prepare_directions_dialog(self) -> None:
        ws = self.controller.workspace
        if ws is None:
            self.controller.report("Preparing directions", UserError("open a workspace first"))
            return
        prepared = [d for d in ws.directions if ws.comparison(*d) is not None]
        dialog = PrepareDirectionsDialog(ws.query_langs, ws.doc_langs, prepared, self)
        if dialog.exec() == PrepareDirectionsDialog.DialogCode.Accepted:
            self.controller.prepare_directions(dialog.chosen())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_workspaces
        for config in recent:
            action = self.recent_menu.addAction(config.label)
            action.setToolTip(config.dataset)
            action.triggered.connect(lambda _=False, c=config: self.open_workspace(c))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", self.settings.clear_recent)

    def _on_blind_changed(self, blind: bool) -> None:
        session = self.context.judgments.session
        self.blind_bar.show_campaign(session.campaign.name if blind and session else None)

    def _tab_order(self) -> None:
        b = self.browser
        chain = [
            b.filter_edit,
            b.table,
            *getattr(self.views.get("compare"), "lists", []),
            b.free_text,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- views -------------------------------------------------------------------------------------
    @property
    def current_view(self) -> str:
        widget = self.stack.currentWidget()
        return next((n for n, w in self.views.items() if w is widget), "")

    def show_view(self, name: str) -> None:
        if name not in self.views:
            raise UserError(f"unknown view {name!r}; views: {', '.join(self.views)}")
        # hidden views must not impose their minimum size on the window (a stacked layout
        # skips widgets whose size policy is Ignored)
        ignored, preferred = QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
        for view_name, widget in self.views.items():
            policy = preferred if view_name == name else ignored
            widget.setSizePolicy(policy, policy)
        self.stack.setCurrentWidget(self.views[name])
        self.view_actions[name].setChecked(True)

    def _on_view_requested(self, name: str) -> None:
        if name in self.views:
            self.show_view(name)

    # -- workspaces --------------------------------------------------------------------------------
    def open_dialog(self) -> bool:
        """The start dialog; opens the chosen workspace. False when cancelled."""
        current = self.controller.workspace.config if self.controller.workspace else None
        dialog = StartDialog(
            self,
            config=current or self.settings.last_workspace,
            folders=self.settings.model_folders,
            download_dir=self.settings.download_dir,
            validate=_validate,
            db=self.default_db,
        )
        accepted = dialog.exec() == StartDialog.DialogCode.Accepted
        if self.persist:
            self.settings.add_model_folders(dialog.added_folders)
            if dialog.downloaded_to:
                self.settings.download_dir = dialog.downloaded_to
        if accepted:
            self.open_workspace(dialog.config())
        return accepted

    def open_workspace(self, config: WorkspaceConfig) -> bool:
        opened = self.controller.open_workspace(config)
        if opened:
            self.message_bar.dismiss()
            for note in self.controller.workspace.convention_notes():
                self.message_bar.show_failure(Failure("Model conventions", note, note, True))
            if self.persist:
                self.settings.remember_workspace(config)
                self.settings.sync()
        return opened

    def _on_workspace_changed(self, *_: object) -> None:
        self._tab_order()  # the compare view made one pane per model
        ws = self.controller.workspace
        direction = self.controller.direction
        if ws is None:
            self.setWindowTitle("clirlens")
            return
        where = f" · {direction[0]}→{direction[1]}" if direction else ""
        self.setWindowTitle(f"clirlens — {ws.config.kind} {ws.config.dataset}{where}")

    def _show_database(self, text: str) -> None:
        self.db_label.setText(f"Judgments: {text}")
        self.db_label.setToolTip(
            f"judgments are kept in {text} (File → Switch judgments database…)"
        )

    def switch_database(self, db: str) -> bool:
        """Keep the judgments in ``db`` from now on (this workspace, and remembered with it)."""
        if not self.context.judgments.switch(db):
            return False
        if self.persist and self.controller.workspace is not None:
            self.settings.remember_workspace(self.controller.workspace.config)
            self.settings.sync()
        return True

    def _switch_database_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self,
            "Judgments database (a new or existing SQLite file)",
            self.context.judgments.database_path() or "",
            "SQLite (*.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.switch_database(path)

    def _on_error(self, failure: Failure) -> None:
        self.message_bar.show_failure(failure)

    def _on_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- persistence -------------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        if s.geometry is not None:
            self.restoreGeometry(s.geometry)
        if s.window_state is not None:
            self.restoreState(s.window_state)
        self.fit_to_screen()
        self.show_view(s.current_view if s.current_view in self.views else "compare")

    def fit_to_screen(self) -> None:
        """Keep the window on the screen it is on and no larger than it (a geometry saved on
        a larger screen, or at another scale factor, would otherwise open off its edges)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), area.width() - extra_w)
        height = min(self.height(), area.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, 200), max(height, 150))
        frame = self.frameGeometry()
        x = min(max(frame.x(), area.left()), max(area.left(), area.right() - frame.width() + 1))
        y = min(max(frame.y(), area.top()), max(area.top(), area.bottom() - frame.height() + 1))
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.current_view = self.current_view
        s.sync()

    def _busy_cursor(self, busy: bool) -> None:
        """The arrow-with-spinner cursor while a job runs: the window stays usable, and the
        cursor, drawn by the window system, still says "working" during the one moment the
        application cannot redraw (a model's tokenizer parses its 17 MB JSON holding
        Python's GIL for 0.7-0.9 s, once per model)."""
        if busy and not self._cursor_set:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self._cursor_set = True
        elif not busy and self._cursor_set:
            QApplication.restoreOverrideCursor()
            self._cursor_set = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.persist:
            self.save_settings()
        self.controller.shutdown()
        self._busy_cursor(False)
        super().closeEvent(event)
