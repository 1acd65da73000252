"""The judgments database as the window sees it: one repository, one undo stack, the
current annotator, the open judging session, and the grades the compare view shows.

The window has one :class:`JudgmentsService` (in its
:class:`~clirlens.gui.services.context.AppContext`), so the annotation view and the
evaluation dashboard share the database connection and the application has one
:class:`QUndoStack` of judgment edits (docs/architecture.md §2.4): every edit is a storage command
(:mod:`clirlens.storage.commands`) wrapped in an :class:`UndoableJudgment`. The service also
keeps the bookkeeping of a judging session: a do, undo or redo updates the session and the
grade table first, then ``judgmentChanged`` tells the views, which only redraw.

The database is the workspace's ``db`` (``--db URL`` or the start dialog), else storage's
default (``$CLIRLENS_DB``, or ``judgments.sqlite`` in the user data directory). It is
opened on first use, on the GUI thread: every repository call is one short transaction
(a few milliseconds), and each judgment is committed before the call returns, so nothing judged
is lost if the application dies afterwards.
"""

from __future__ import annotations

import getpass
import os

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from clirlens.core.errors import UserError
from clirlens.gui.services.controller import WorkspaceController
from clirlens.storage.commands import JudgeCommand
from clirlens.storage.judging import GradeKey, JudgingSession, grade_key
from clirlens.storage.records import Change
from clirlens.storage.repository import JudgmentRepository


def default_annotator() -> str:
    """The operating-system user (``$USER``…), or ``"annotator"`` when there is none."""
    try:
        return getpass.getuser() or "annotator"
    except (KeyError, OSError):  # no passwd entry (containers)
        return os.environ.get("USER") or "annotator"


class UndoableJudgment(QUndoCommand):
    """A storage :class:`JudgeCommand` on the undo stack. ``push()`` runs :meth:`redo`, which
    is the command's ``do()``; when the database refuses (e.g. the judgment was changed from
    another window since) or fails, the error is reported and the command is dropped from
    the stack (Qt removes an obsolete command), so the stack never claims an edit that the
    database does not hold."""

    def __init__(self, service: JudgmentsService, command: JudgeCommand) -> None:
        super().__init__(command.text)
        self.service = service
        self.command = command
        self.ok = False

    def _run(self, action: str) -> None:
        try:
            change = self.command.do() if action == "do" else self.command.undo()
        except Exception as exc:  # a refusal, or the database failing: nothing changed
            self.ok = False
            self.setObsolete(True)  # the stack drops it
            self.service.controller.report("Judging", exc)
            return
        self.ok = True
        self.service.take(change)

    def redo(self) -> None:
        self._run("do")

    def undo(self) -> None:
        self._run("undo")


class JudgmentsService(QObject):
    repositoryChanged = Signal()  # another database was opened (or the old one closed)
    databaseChanged = Signal(str)  # the database judgments go to, as messages name it
    campaignsChanged = Signal()  # a campaign was created
    judgmentChanged = Signal(object)  # storage Change of a do, undo or redo (already taken in)
    annotatorChanged = Signal(str)
    sessionChanged = Signal()  # a campaign was opened or closed

    def __init__(self, controller: WorkspaceController) -> None:
        super().__init__(controller)
        self.controller = controller
        self.undo_stack = QUndoStack(self)
        self.annotator = default_annotator()
        self.grades: dict[GradeKey, int] = {}
        self.session: JudgingSession | None = None
        self._repo: JudgmentRepository | None = None
        self._db: str | None = None
        controller.workspaceChanged.connect(self._on_workspace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    # -- database ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._repo is not None

    def _wanted_db(self) -> str | None:
        ws = self.controller.workspace
        return ws.config.db if ws is not None else None

    def database_text(self, fallback: str | None = None) -> str:
        """The database judgments go to: the open one, else the workspace's, else
        ``fallback`` or the default ($CLIRLENS_DB or the data folder's file), as messages
        name it."""
        from clirlens.storage.db import describe, resolve_url

        db = self._db if self._repo is not None else (self._wanted_db() or fallback)
        try:
            return describe(resolve_url(db))
        except UserError as exc:
            return str(exc)

    def database_path(self) -> str | None:
        """The SQLite file judgments go to (None for a server database)."""
        from clirlens.storage.db import resolve_url, sqlite_path

        try:
            path = sqlite_path(
                resolve_url(self._db if self._repo is not None else self._wanted_db())
            )
        except UserError:
            return None
        return str(path) if path is not None else None

    def switch(self, db: str) -> bool:
        """Keep judgments in ``db`` from now on: opened (and checked) first, so a database that
        cannot be used changes nothing; then the workspace records it."""
        ws = self.controller.workspace
        if ws is None:
            self.controller.report(
                "Switching the judgments database", UserError("open a workspace first")
            )
            return False
        try:
            repo = JudgmentRepository.open(db)
        except UserError as exc:
            self.controller.report("Switching the judgments database", exc)
            return False
        self.close()
        self._repo, self._db = repo, db
        self.controller.set_database(db)
        self.repositoryChanged.emit()
        self.databaseChanged.emit(self.database_text())
        return True

    def repository(self) -> JudgmentRepository | None:
        """The open repository (opened now if needed); None, with the error reported, when
        the database cannot be opened."""
        if self._repo is None:
            try:
                self._repo = JudgmentRepository.open(self._wanted_db())
            except UserError as exc:
                self.controller.report("Opening the judgments database", exc)
                return None
            self._db = self._wanted_db()
            self.databaseChanged.emit(self.database_text())
        return self._repo

    def use_database(self, db: str | os.PathLike[str] | None) -> JudgmentRepository:
        """Open ``db`` instead of the workspace's (tests, the screenshot's scratch file)."""
        repo = JudgmentRepository.open(db)
        self.close()
        self._repo, self._db = repo, os.fspath(db) if db is not None else None
        self.repositoryChanged.emit()
        self.databaseChanged.emit(self.database_text())
        return repo

    def _on_workspace_changed(self) -> None:
        if self._repo is not None and self._wanted_db() != self._db:
            self.close()
            self.repositoryChanged.emit()
        self.databaseChanged.emit(self.database_text())

    def close(self) -> None:
        """Close the database (a last checkpoint for SQLite) and forget its undo history."""
        self.undo_stack.clear()
        self.grades = {}
        self._set_session(None)
        if self._repo is not None:
            repo, self._repo = self._repo, None
            repo.close()

    # -- judging -------------------------------------------------------------------------------
    def open_session(self, campaign: str) -> JudgingSession | None:
        """Open ``campaign`` for the current annotator (where they resume); None, with the
        error reported, when it cannot be opened. The undo history starts afresh (commands
        belong to the campaign they edit) and the compare view shows its grades."""
        repo = self.repository()
        if repo is None:
            return None
        try:
            session = JudgingSession.open(repo, campaign, self.annotator)
        except UserError as exc:
            self.controller.report("Opening the campaign", exc)
            self._set_session(None)
            return None
        self.undo_stack.clear()
        self._set_session(session)
        self.publish(session.grade_table())
        return session

    def close_session(self) -> None:
        self._set_session(None)

    def _set_session(self, session: JudgingSession | None) -> None:
        """The open session; the controller learns its queries and whether it is blind."""
        if session is self.session:
            return
        self.session = session
        queries = None if session is None else frozenset(i.query.id for i in session.items)
        self.controller.set_campaign(queries, session is not None and session.campaign.blind)
        self.sessionChanged.emit()

    def take(self, change: Change) -> None:
        """Take in what a do, undo or redo did (the session's grades and blind sources, the
        grade table), then announce it."""
        s = self.session
        if s is not None and change.entry.item_id in s.index:
            item = s.items[s.apply(change)]
            if change.judgment is None:
                self.grades.pop(grade_key(item), None)
            else:
                self.grades[grade_key(item)] = change.judgment.grade
        self.judgmentChanged.emit(change)

    def set_annotator(self, name: str) -> None:
        name = " ".join(name.split())
        if name and name != self.annotator:
            self.undo_stack.clear()  # commands belong to the annotator who made them
            self.annotator = name
            self.annotatorChanged.emit(name)

    def push(self, command: JudgeCommand) -> bool:
        """Run ``command`` through the undo stack; False when the database refused it."""
        undoable = UndoableJudgment(self, command)
        self.undo_stack.push(undoable)
        return undoable.ok

    # -- grades for the compare view ---------------------------------------------------------
    def lookup(self, query_id: str, passage_id: str) -> int | None:
        """The annotator's grade of a passage for a query of the controller's direction."""
        direction = self.controller.direction
        if direction is None:
            return None
        return self.grades.get((direction[0], direction[1], query_id, passage_id))

    def publish(self, grades: dict[GradeKey, int] | None = None) -> None:
        """Show the current grades in the compare view (``grades`` replaces the table)."""
        if grades is not None:
            self.grades = grades
        self.controller.set_judgments(self.lookup if self.grades else None)
