"""The status bar's progress panel and the window's message area.

* :class:`ProgressPanel`: the current job's message with its counts and time left, a
  progress bar (busy indicator when the total is unknown) and Cancel; visible only while a
  job runs.
* :class:`BlindBar`: while a blind judging campaign is open, a strip saying what is hidden in
  every view, with Close campaign.
* :class:`MessageBar`: the one place errors arrive (from workers and from user actions):
  a non-modal strip above the views with the one-line message, a Details button opening a
  non-modal dialog (traceback for unexpected errors) and a close button. It never blocks
  the window.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.progress import Eta, describe
from clirlens.core.types import Progress
from clirlens.gui.services.jobs import Failure, JobRunner


class ProgressPanel(QWidget):
    """Progress of a :class:`JobRunner`'s current job, with Cancel."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.eta = Eta()
        self.label = QLabel()
        self.label.setObjectName("progressLabel")
        self.label.setMinimumWidth(240)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop the running job (at its next step); caches stay consistent"
        )
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        jobs.progressChanged.connect(self._on_progress)
        jobs.busyChanged.connect(self._on_busy)
        jobs.jobChanged.connect(self._on_job)
        self.setVisible(False)

    def _on_cancel_clicked(self) -> None:
        self.jobs.cancel()

    def _on_job(self, title: str) -> None:
        if title:
            self.eta = Eta()
            self.label.setText(title + "…")
            self.bar.setRange(0, 0)
            self.cancel_button.setEnabled(True)
            self.cancel_button.setText("Cancel")
        elif self.jobs.busy:  # cancelled, winding down until the next step
            self.label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _on_progress(self, p: Progress) -> None:
        shown = p if p.message else Progress(p.done, p.total, self.jobs.title)
        self.label.setText(describe(shown, self.eta(p)))
        self.label.setToolTip(self.label.text())
        if p.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * p.fraction))
        else:
            self.bar.setRange(0, 0)

    def _on_busy(self, busy: bool) -> None:
        self.setVisible(busy)


class DetailsDialog(QDialog):
    """Non-modal view of an error's details."""

    def __init__(self, failure: Failure, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(failure.title)
        self.setModal(False)
        self.resize(720, 420)
        text = QPlainTextEdit(failure.details)
        text.setReadOnly(True)
        text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(failure.message))
        layout.addWidget(text, 1)
        layout.addWidget(buttons)


class MessageBar(QFrame):
    """The window's message area for errors (see the module notes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.failures: list[Failure] = []
        self.icon = QLabel("⚠")
        self.icon.setObjectName("messageIcon")
        self.text = QLabel()
        self.text.setObjectName("messageText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton("Details…")
        self.details_button.clicked.connect(self._on_details)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.close_button)
        self._dialog: DetailsDialog | None = None
        self.setVisible(False)

    @property
    def message(self) -> str:
        return self.failures[-1].message if self.failures else ""

    def show_failure(self, failure: Failure) -> None:
        self.failures.append(failure)
        more = f"  (+{len(self.failures) - 1} earlier)" if len(self.failures) > 1 else ""
        self.text.setText(f"<b>{_escape(failure.title)}:</b> {_escape(failure.message)}{more}")
        self.details_button.setVisible(not failure.expected)
        self.setVisible(True)

    def resolve(self, title: str) -> None:
        """Drop the messages of ``title`` (their cause is gone); hide when none is left."""
        self.failures = [f for f in self.failures if f.title != title]
        if not self.failures:
            self.dismiss()
        else:
            self.show_failure(self.failures.pop())

    def dismiss(self) -> None:
        self.failures.clear()
        self.setVisible(False)

    def _on_details(self) -> None:
        if not self.failures:
            return
        self._dialog = DetailsDialog(self.failures[-1], self.window())
        self._dialog.show()


def _escape(text: str) -> str:
    import html

    return html.escape(text)


class BlindBar(QFrame):
    """Shown while a blind campaign is open (see the module notes); ``close_campaign`` is
    called by its button."""

    def __init__(self, close_campaign, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blindBar")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.close_button = QPushButton("Close campaign")
        self.close_button.setToolTip("stop judging: gold, ranks and model names show again")
        self.close_button.clicked.connect(close_campaign)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button)
        self.setVisible(False)

    def show_campaign(self, name: str | None) -> None:
        """Shown for the blind campaign ``name``, hidden for None."""
        if name:
            self.text.setText(
                f"Blind judging: campaign <b>{html.escape(name)}</b> is open, so gold passages, ranks, "
                "scores, answer spans and model names are hidden in every view."
            )
        self.setVisible(bool(name))
