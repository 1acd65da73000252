"""The judging screen (view "annotate"): one pooled passage at a time, graded 0–3.

Keys while the view is shown: 0–3 grade and advance to the next unjudged item, n note,
s skip, ←/→ move, Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo (the buttons do the same).
Each grade is one storage command on the application's undo stack
(:mod:`clirlens.gui.services.judgments`, which also keeps the session's bookkeeping),
committed before the next item shows, with one redraw per key press; where a reopened
campaign resumes is :class:`~clirlens.storage.judging.JudgingSession`'s. The item display is
:class:`~clirlens.gui.annotate.panel.JudgingPanel`, the agreement of several annotators
:class:`~clirlens.gui.widgets.agreement_panel.AgreementPanel`. The database is opened when the
view is first shown, not at start-up.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.gui.annotate.dialog import CampaignDialog
from clirlens.gui.annotate.panel import JudgingPanel
from clirlens.gui.annotate.texts import TextSource, screenshot_campaign
from clirlens.gui.services.context import AppContext
from clirlens.gui.widgets.agreement_panel import AgreementPanel
from clirlens.gui.widgets.keys import shortcut
from clirlens.storage.commands import JudgeCommand
from clirlens.storage.records import GRADE_LABELS, Change
from clirlens.storage.repository import UNCHANGED

MAX_SECONDS = 600.0  # time on one item is counted up to this (the annotator went away)


class AnnotateView(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("annotateView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.context = context
        self.controller = controller = context.controller
        self.service = context.judgments
        self.texts = TextSource(controller, on_loaded=self._on_texts_loaded)
        self._loaded = False
        self._advance = False  # the next judgment change comes from a grade key: move on
        self._shown_at = time.monotonic()
        self._note_loaded = ""

        self.campaign_combo = QComboBox()
        self.campaign_combo.setMinimumContentsLength(18)
        self.campaign_combo.activated.connect(self._on_campaign_chosen)
        self.new_button = QPushButton("New campaign…")
        self.new_button.clicked.connect(self.new_campaign)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip(
            "close the campaign: the other views show gold, ranks and models again"
        )
        self.close_button.clicked.connect(self.service.close_session)
        self.annotator_edit = QLineEdit(self.service.annotator)
        self.annotator_edit.setMaximumWidth(180)
        self.annotator_edit.setToolTip("who is judging (your user name unless changed)")
        self.annotator_edit.editingFinished.connect(self._on_annotator_edited)
        self.blind_label = QLabel()
        self.blind_label.setObjectName("hint")
        self.overall = QProgressBar()
        self.overall.setFormat("%v / %m judged")
        self.overall.setMinimumWidth(140)
        top = QHBoxLayout()
        for w in (QLabel("Campaign"), self.campaign_combo, self.new_button, self.close_button):
            top.addWidget(w)
        top.addSpacing(12)
        for w in (QLabel("Annotator"), self.annotator_edit, self.blind_label):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.overall)

        self.panel = JudgingPanel(self.texts)
        for g, button in enumerate(self.panel.grade_buttons):
            button.clicked.connect(lambda _=False, g=g: self.grade(g))
        self.panel.prev_button.clicked.connect(lambda: self.move(-1))
        self.panel.skip_button.clicked.connect(self.skip)
        self.panel.next_button.clicked.connect(lambda: self.move(1))
        self.panel.note_edit.returnPressed.connect(self._on_note_entered)
        self.agreement = AgreementPanel()
        self.agreement.setMinimumWidth(180)
        self.agreement.setMaximumWidth(280)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.panel, 1)
        row.addWidget(self.agreement)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self._shortcuts()
        self._agreement_timer = QTimer(self, singleShot=True, interval=1200)
        self._agreement_timer.timeout.connect(self._refresh_agreement)
        controller.workspaceChanged.connect(self._on_workspace_changed)
        self.service.repositoryChanged.connect(self._on_repository_changed)
        self.service.campaignsChanged.connect(self._reload_campaigns)
        self.service.judgmentChanged.connect(self._on_judgment_changed)
        self.service.annotatorChanged.connect(self._on_annotator_changed)
        self.service.sessionChanged.connect(self._on_session_changed)
        self._show_item()

    def _shortcuts(self) -> None:
        def key(sequence: str, slot, help: str) -> None:  # while the view is shown
            shortcut(self, sequence, slot, help, "Annotate")

        for g, label in GRADE_LABELS.items():
            key(str(g), lambda g=g: self.grade(g), f"grade {g}: {label}")
        key("N", self.edit_note, "write a note on the passage")
        key("S", self.skip, "skip the passage (judge it later)")
        key("Left", lambda: self.move(-1), "previous passage")
        key("Right", lambda: self.move(1), "next passage")
        shortcut(
            self.panel.note_edit,
            "Escape",
            self._on_note_cancelled,
            "cancel the note being written",
            "Annotate",
            Qt.ShortcutContext.WidgetShortcut,
        )
        # undo/redo live in the main window's Edit menu (one QUndoStack, Ctrl+Z everywhere)

    # -- campaigns -----------------------------------------------------------------------------
    @property
    def session(self):
        """The judging session open in the judgments service (None when none is)."""
        return self.service.session

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:
            remembered = self.context.settings.annotator
            if remembered:
                self.service.set_annotator(remembered)
            self._reload_campaigns()

    def hideEvent(self, event) -> None:
        """Leaving this view for another (not the window being minimised): the compare view
        shows the grades given here (not on every judgment: rebuilding its lists takes
        time). A blind campaign stays blind in every view until it is closed."""
        super().hideEvent(event)
        if event.spontaneous():
            return
        if self.session is not None:
            self.service.publish()

    def _on_session_changed(self) -> None:
        if self.session is None:  # closed (here or from the window's blind banner)
            self.campaign_combo.setCurrentIndex(-1)
            self.campaign_combo.setPlaceholderText("(closed)")
        self.close_button.setEnabled(self.session is not None)
        self._show_item()

    def _on_workspace_changed(self) -> None:
        self.texts.clear()
        self._loaded = False
        if self.isVisible():
            self._reload_campaigns()
        self._show_item()

    def _on_repository_changed(self) -> None:
        self.service.close_session()
        self._on_workspace_changed()

    def _on_texts_loaded(self) -> None:
        if self.session is not None and self.session.current is not None:
            self._show_item()

    def _may_open(self) -> bool:
        """Open the database only for a workspace, and in a window that keeps no user state
        (a screenshot's) only when it was opened on purpose."""
        return self.controller.workspace is not None and (
            self.context.persist or self.service.is_open
        )

    def _remember(self, campaign: str | None = None, annotator: str | None = None) -> None:
        if not self.context.persist:
            return
        if campaign is not None:
            self.context.settings.annotate_campaign = campaign
        if annotator is not None:
            self.context.settings.annotator = annotator

    def _reload_campaigns(self, select: str | None = None) -> None:
        if not self._may_open():
            self.service.close_session()
            self._show_item()
            return
        self._loaded = True
        repo = self.service.repository()
        campaigns = sorted(repo.campaigns(), key=lambda c: c.created_at) if repo else []
        names = [c.name for c in campaigns]
        current = select or (
            self.session.campaign.name if self.session else self.context.settings.annotate_campaign
        )
        self.campaign_combo.blockSignals(True)
        self.campaign_combo.clear()
        self.campaign_combo.addItems(names)
        self.campaign_combo.blockSignals(False)
        if names:
            self.open_campaign(current if current in names else names[-1])
        else:
            self.service.close_session()
            self._show_item()

    def _on_campaign_chosen(self, index: int) -> None:
        self.open_campaign(self.campaign_combo.itemText(index))

    def new_campaign(self) -> None:
        dialog = CampaignDialog(self.controller, self.service, self)
        if dialog.exec() == CampaignDialog.DialogCode.Accepted and dialog.created is not None:
            self._reload_campaigns(select=dialog.created.name)

    def open_campaign(self, name: str) -> None:
        if self.service.open_session(name) is not None:
            self._remember(campaign=name)
            self.campaign_combo.setCurrentText(name)
        self._show_item()
        self._refresh_agreement()

    def _on_annotator_edited(self) -> None:
        self.service.set_annotator(self.annotator_edit.text())
        self.annotator_edit.setText(self.service.annotator)

    def _on_annotator_changed(self, name: str) -> None:
        self.annotator_edit.setText(name)
        self._remember(annotator=name)
        if self.session is not None:
            self.open_campaign(self.session.campaign.name)

    # -- judging -------------------------------------------------------------------------------
    def grade(self, grade: int) -> None:
        """Judge the current item (keeping or replacing its note) and go to the next one."""
        s = self.session
        item = s.current if s else None
        if s is None or item is None:
            return
        text = self.panel.note_edit.text().strip()
        note = text if text != self._note_loaded else UNCHANGED
        spent = min(MAX_SECONDS, time.monotonic() - self._shown_at)
        command = JudgeCommand(s.repo, item.id, s.annotator, grade, note=note, seconds_spent=spent)
        self._advance = True  # the change this push makes moves on to the next item
        try:
            self.service.push(command)
        finally:
            self._advance = False
        self.setFocus()

    def _on_judgment_changed(self, change: Change) -> None:
        """A do, undo or redo (the service has taken it in): show the item it concerns, or
        after a grade key the next unjudged one; one redraw either way."""
        s = self.session
        if s is None or change.entry.item_id not in s.index:
            return
        s.goto(s.index[change.entry.item_id])
        if self._advance:
            s.advance()
        self._show_item()
        self._refresh_agreement(agreement=False)

    def move(self, delta: int) -> None:
        if self.session is not None and self.session.move(delta):
            self._show_item()

    def skip(self) -> None:
        if self.session is not None and self.session.skip():
            self._show_item()

    def edit_note(self) -> None:
        if self.session is not None and self.session.current is not None:
            self.panel.note_edit.setFocus()
            self.panel.note_edit.selectAll()

    def _on_note_entered(self) -> None:
        s = self.session
        item = s.current if s else None
        judged = s.judgment(item.id) if s and item else None
        text = self.panel.note_edit.text().strip()
        if s is not None and judged is not None and text != self._note_loaded:
            self.service.push(
                JudgeCommand(s.repo, judged.item_id, s.annotator, judged.grade, note=text)
            )
        self.setFocus()

    def _on_note_cancelled(self) -> None:
        self.panel.note_edit.setText(self._note_loaded)
        self.setFocus()

    # -- drawing -------------------------------------------------------------------------------
    def _show_item(self) -> None:
        s = self.session
        if s is None or s.current is None:
            self.stack.setCurrentWidget(self.placeholder)
            self.placeholder.setText(self._empty_text())
            self.overall.setVisible(False)
            self.blind_label.setText("")
            return
        self.stack.setCurrentIndex(1)
        self._shown_at = time.monotonic()
        self.overall.setVisible(True)
        self.overall.setRange(0, len(s.items))
        self.overall.setValue(s.judged)
        self.blind_label.setText("· blind" if s.campaign.blind else "")
        self._note_loaded = self.panel.show_item(s)

    def _empty_text(self) -> str:
        if self.controller.workspace is None:
            return "Open a workspace (File → Open workspace…) to judge its results."
        if self.session is None and self.campaign_combo.count():
            return "No campaign is open: choose one above, or create one with “New campaign…”."
        return (
            "No judging campaign yet. Create one from a prepared direction with "
            "“New campaign…”: which queries, the models whose top-k are pooled, "
            "blind or not."
        )

    def _refresh_agreement(self, agreement: bool = True) -> None:
        """Every annotator's progress (one quick query) and, with ``agreement`` and several
        annotators, their agreement (debounced after judgments: it reads every judgment)."""
        s = self.session
        repo = self.service.repository() if s else None
        self.agreement.setVisible(s is not None and repo is not None)
        if s is None or repo is None:
            return
        progress = repo.progress(s.campaign.name, s.annotator)
        self.agreement.show_progress(progress)
        if sum(1 for p in progress.annotators if p.judged) < 2:
            self.agreement.show_agreement(None)
        elif agreement:
            self.agreement.show_agreement(repo.agreement(s.campaign.name))
        else:
            self._agreement_timer.start()

    # -- screenshots ---------------------------------------------------------------------------
    def prepare_screenshot(self) -> str | None:
        """For ``clirlens --screenshot F --view annotate``: a demo campaign in a scratch
        database (the user's is not touched) with two items judged as the dataset's gold
        says; returns an error message, or None."""
        try:
            name = screenshot_campaign(self.controller, self.service)
        except UserError as exc:
            return str(exc)
        self._reload_campaigns(select=name)
        for _ in range(2):
            item = self.session.current if self.session else None
            if item is not None:
                self.grade(self.texts.oracle_grade(item))
        return None
