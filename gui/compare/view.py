"""The compare view (centre): the selected query, its parallel English question, the
per-query agreement of the two models' top lists, and one ranked list per model side by
side (:class:`~clirlens.gui.widgets.ranked_list.RankedList`).

Before a comparison is ready the view shows what is happening (preparing, cancelled,
failed) and a button to prepare the direction again.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.text.markup import RTL_LANGS
from clirlens.core.workspace.comparison import QueryView
from clirlens.gui.services.context import AppContext
from clirlens.gui.widgets.keys import shortcut
from clirlens.gui.widgets.labels import model_title
from clirlens.gui.widgets.ranked_list import RankedList


def _num(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def _rank(rank: int | None, k: int) -> str:
    if rank is None:
        return "no gold"
    return f"#{rank}" if rank <= k else f"not in top {k}"


class CompareView(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        controller = context.controller
        self.controller = controller
        self.setObjectName("compareView")

        # header: the query, its parallel question, agreement
        self.header = QFrame()
        self.header.setObjectName("queryHeader")
        self.query_label = QLabel()
        self.query_label.setObjectName("queryText")
        self.query_label.setWordWrap(True)
        self.query_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.parallel_label = QLabel()
        self.parallel_label.setObjectName("parallelText")
        self.parallel_label.setWordWrap(True)
        self.meta_label = QLabel()
        self.meta_label.setObjectName("queryMeta")
        self.meta_label.setWordWrap(True)
        self.agreement_label = QLabel()
        self.agreement_label.setObjectName("agreement")
        self.agreement_label.setToolTip(
            "agreement of the two models' top lists: overlap@k = shared passages / k; "
            "RBO = rank-biased overlap (p = 0.9); Kendall's τ-b over the union of the lists "
            "(missing = rank k+1)"
        )
        for label in (self.query_label, self.parallel_label, self.meta_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head = QVBoxLayout(self.header)
        head.setContentsMargins(14, 10, 14, 10)
        head.setSpacing(4)
        head.addWidget(self.query_label)
        head.addWidget(self.parallel_label)
        self.align_button = QPushButton("Align tokens")
        self.align_button.setToolTip(
            "open the OT alignment of the selected passage with the query, or of the query "
            "with its English parallel when no passage is selected (Ctrl+Shift+A)"
        )
        self.align_button.clicked.connect(lambda: self.controller.request_view("align"))
        shortcut(
            self,
            "Ctrl+Shift+A",
            lambda: self.controller.request_view("align"),
            "align the selected passage (or the query's English parallel) with the query",
            "Compare",
        )
        row = QHBoxLayout()
        row.addWidget(self.meta_label, 1)
        row.addWidget(self.agreement_label)
        row.addWidget(self.align_button)
        head.addLayout(row)

        # lists, or a placeholder while there is nothing to show
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("compareSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.lists: list[RankedList] = []
        self.titles: list[QLabel] = []
        self.placeholder = QWidget()
        self.placeholder_label = QLabel()
        self.placeholder_label.setObjectName("placeholder")
        self.placeholder_label.setWordWrap(True)
        self.placeholder_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.retry_button = QPushButton("Prepare again")
        self.retry_button.clicked.connect(self._on_retry_clicked)
        ph = QVBoxLayout(self.placeholder)
        ph.addStretch(1)
        ph.addWidget(self.placeholder_label)
        ph.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        ph.addStretch(2)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.splitter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.stack, 1)

        controller.workspaceChanged.connect(self._on_workspace_changed)
        controller.queryViewChanged.connect(self._on_query_view_changed)
        controller.comparisonChanged.connect(self._on_state_changed)
        controller.jobs.busyChanged.connect(self._on_state_changed)
        controller.errorOccurred.connect(self._on_state_changed)
        self._on_workspace_changed()

    # -- slots -------------------------------------------------------------------------------------
    def _on_workspace_changed(self) -> None:
        models = self.controller.models
        if len(models) == len(self.lists):
            return
        for pane in self.lists:
            pane.parentWidget().deleteLater()
        self.lists, self.titles = [], []
        for m in range(len(models)):
            box = QWidget()
            v = QVBoxLayout(box)
            v.setContentsMargins(0, 0, 0, 0)
            v.setSpacing(2)
            title = QLabel()
            title.setObjectName("paneTitle")
            title.setWordWrap(True)  # a long model name wraps instead of widening the window
            pane = RankedList(self.controller, m)
            v.addWidget(title)
            v.addWidget(pane, 1)
            self.splitter.addWidget(box)
            self.lists.append(pane)
            self.titles.append(title)
        for a, b in zip(self.lists, self.lists[1:], strict=False):
            QWidget.setTabOrder(a, b)
        self._on_query_view_changed()

    def _on_retry_clicked(self) -> None:
        self.controller.retry()

    def _on_state_changed(self, *_: object) -> None:
        c = self.controller
        if c.query_view is not None:
            self.stack.setCurrentWidget(self.splitter)
            return
        self.stack.setCurrentWidget(self.placeholder)
        can_retry = False
        if c.workspace is None:
            text = "Open a workspace: File → Open workspace… (Ctrl+O)"
        elif c.jobs.busy:
            text = "Preparing the workspace: encoding and indexing run in the background…"
        elif c.comparison is None:
            text = "This direction is not prepared (cancelled or failed)."
            can_retry = True
        else:
            text = "No query matches the filter." if not c.rows else "Select a query."
        self.placeholder_label.setText(text)
        self.retry_button.setVisible(can_retry)

    def _on_query_view_changed(self) -> None:
        view: QueryView | None = self.controller.query_view
        self._on_state_changed()
        models = self.controller.models
        for m, title in enumerate(self.titles):
            rank = ""
            blind = self.controller.blind
            if view is not None and m < len(view.gold_ranks) and not view.free_text and not blind:
                rank = f" · gold {_rank(view.gold_ranks[m], view.k)}"
                if view.gold_ranks[m] is not None and view.gold_ranks[m] > view.k and view.gold:
                    exact = self.controller.exact_rank(m, sorted(view.gold)[0])
                    if exact is not None:  # below the depth: computed for the gold passage
                        rank += f" (rank {exact[0]}, score {exact[1]:.4f})"
            title.setText(model_title(m, models[m], blind) + rank)
        if view is None:
            self.query_label.setText("")
            self.parallel_label.setVisible(False)
            self.meta_label.setText("")
            self.agreement_label.setText("")
            return
        q = view.query
        direction = "rtl" if q.lang in RTL_LANGS else "ltr"
        self.query_label.setText(f'<div dir="{direction}">{html.escape(q.text)}</div>')
        show_parallel = view.parallel is not None and view.parallel.text != q.text
        self.parallel_label.setVisible(show_parallel)
        if show_parallel:
            self.parallel_label.setText(f"{view.parallel.lang}: {html.escape(view.parallel.text)}")
        doc_lang = self.controller.direction[1] if self.controller.direction else "?"
        kind = "free-text query" if view.free_text else f"query {q.id}"
        self.meta_label.setText(f"{kind} · {q.lang} → {doc_lang}")
        ag = view.agreement
        self.agreement_label.setVisible(not self.controller.blind)
        self.agreement_label.setText(
            f"overlap@{ag.k} <b>{_num(ag.overlap)}</b> · RBO <b>{_num(ag.rbo)}</b> · "
            f"Kendall τ <b>{_num(ag.kendall_tau)}</b>"
        )
