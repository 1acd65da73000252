"""The judging screen's item display: the query and its English parallel, where the
item sits (query n of N, passage m of M, progress of the query), the passage in large text
with query terms and the gold answer span highlightable, who found it (hidden while blind),
the grade buttons, navigation and the note. Drawing only: the buttons' signals go to
:class:`~clirlens.gui.annotate.view.AnnotateView`, which owns the behaviour."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.text.markup import RTL_LANGS, passage_markup, query_terms, term_spans
from clirlens.gui.annotate.texts import TextSource
from clirlens.storage.judging import JudgingSession
from clirlens.storage.records import GRADE_LABELS, PoolItem

KEYS_HINT = "Keys: 0–3 grade · n note · s skip · ←/→ move · Ctrl+Z undo · Ctrl+Shift+Z redo"
PASSAGE_STYLE = (
    "QTextBrowser#judgedPassage { font-size: 15pt; background: #ffffff; color: #111827; "
    "border: 1px solid #d8dde3; border-radius: 6px; padding: 8px; }"
)


def _no_focus(widget: QWidget) -> QWidget:
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the view
    return widget


class JudgingPanel(QWidget):
    def __init__(self, texts: TextSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts = texts
        self.item: PoolItem | None = None
        header = QFrame()
        header.setObjectName("queryHeader")
        self.query_label = QLabel()
        self.query_label.setObjectName("queryText")
        self.parallel_label = QLabel()
        self.parallel_label.setObjectName("parallelText")
        self.meta_label = QLabel()
        self.meta_label.setObjectName("queryMeta")
        for label in (self.query_label, self.parallel_label, self.meta_label):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.query_bar = QProgressBar()
        self.query_bar.setFixedWidth(190)
        self.query_bar.setFormat("%v / %m of this query")
        meta_row = QHBoxLayout()
        meta_row.addWidget(self.meta_label, 1)
        meta_row.addWidget(self.query_bar)
        head = QVBoxLayout(header)
        head.setContentsMargins(14, 10, 14, 10)
        head.addWidget(self.query_label)
        head.addWidget(self.parallel_label)
        head.addLayout(meta_row)

        self.passage = _no_focus(QTextBrowser())
        self.passage.setObjectName("judgedPassage")
        self.passage.setOpenLinks(False)
        self.passage.setStyleSheet(PASSAGE_STYLE)
        self.passage_meta = QLabel()
        self.passage_meta.setObjectName("queryMeta")
        self.terms_check = _no_focus(QCheckBox("Highlight query terms"))
        self.terms_check.setChecked(True)
        self.terms_check.setToolTip("words of the query and of its English parallel")
        self.answer_check = _no_focus(QCheckBox("Show the gold answer span"))
        self.answer_check.setToolTip("the dataset's answer, when this is the gold passage")
        for check in (self.terms_check, self.answer_check):
            check.toggled.connect(self.render_passage)
        toggles = QHBoxLayout()
        toggles.addWidget(self.passage_meta, 1)
        toggles.addWidget(self.terms_check)
        toggles.addWidget(self.answer_check)
        self.sources_label = QLabel()
        self.sources_label.setObjectName("sourcesLabel")
        self.sources_label.setWordWrap(True)

        self.grade_buttons: list[QPushButton] = []
        buttons = QHBoxLayout()
        for g, text in GRADE_LABELS.items():
            b = _no_focus(QPushButton(f"{g}  {text}"))
            b.setCheckable(True)
            b.setMinimumHeight(34)
            b.setToolTip(f"key {g}: grade {g} ({text}) and go to the next item")
            self.grade_buttons.append(b)
            buttons.addWidget(b)
        self.prev_button = _no_focus(QPushButton("← Previous"))
        self.skip_button = _no_focus(QPushButton("Skip (s)"))
        self.next_button = _no_focus(QPushButton("Next →"))
        self.note_edit = QLineEdit()
        notes = QHBoxLayout()  # the note beside the moves, so the grade row stays narrow
        notes.addWidget(self.note_edit, 1)
        for b in (self.prev_button, self.skip_button, self.next_button):
            notes.addWidget(b)
        self.note_edit.setPlaceholderText(
            "Note (n): Enter saves it; on an unjudged item it is saved with the next grade"
        )
        self.hint = QLabel(KEYS_HINT)
        self.hint.setObjectName("hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(header)
        layout.addLayout(toggles)
        layout.addWidget(self.passage, 1)
        layout.addWidget(self.sources_label)
        layout.addLayout(buttons)
        layout.addLayout(notes)
        layout.addWidget(self.hint)

    def show_item(self, session: JudgingSession) -> str:
        """Draw the session's current item; returns the note it holds ("" for none)."""
        item = self.item = session.current
        assert item is not None
        qp = session.query_progress()
        self.query_bar.setRange(0, qp.items)
        self.query_bar.setValue(qp.judged)
        q = item.query
        direction = "rtl" if q.lang in RTL_LANGS else "ltr"
        shown = html.escape(q.text) if q.text else f"<i>query {html.escape(q.id)}</i>"
        self.query_label.setText(f'<div dir="{direction}">{shown}</div>')
        parallel = self.texts.parallel(item)
        self.parallel_label.setVisible(parallel is not None)
        if parallel is not None:
            self.parallel_label.setText(f"{parallel.lang}: {html.escape(parallel.text)}")
        done = " · every item judged (←/→ to review)" if session.done else ""
        self.meta_label.setText(
            f"query {qp.number} of {qp.queries} · passage {qp.place} of {qp.items} · "
            f"{q.lang} → {item.passage_lang} · item {session.position + 1} of "
            f"{len(session.items)}{done}"
        )
        judged = session.judgment(item.id)
        for g, button in enumerate(self.grade_buttons):
            button.setChecked(judged is not None and judged.grade == g)
        if item.blinded:
            self.sources_label.setText("Found by: <i>hidden until you judge it (blind)</i>")
        else:
            found = " · ".join(f"<b>{html.escape(x.model)}</b> #{x.rank}" for x in item.sources)
            self.sources_label.setText(f"Found by: {found or '<i>not recorded</i>'}")
        note = (judged.note or "") if judged else ""
        self.note_edit.setText(note)
        self.render_passage()
        return note

    def render_passage(self, *_: object) -> None:
        item = self.item
        if item is None:
            return
        passage, problem = self.texts.passage(item)
        title = f" · {passage.title}" if passage is not None and passage.title else ""
        self.passage_meta.setText(f"passage {item.passage_id} ({item.passage_lang}){title}")
        if passage is None:
            self.passage.setHtml(f"<p><i>{html.escape(problem)}</i></p>")
            return
        terms: list[tuple[int, int]] = []
        if self.terms_check.isChecked():
            parallel = self.texts.parallel(item)
            words = query_terms(item.query.text, parallel.text if parallel else None)
            terms = term_spans(passage.text, words)
        answers = self.texts.answers(item) if self.answer_check.isChecked() else []
        body = passage_markup(passage.text, answers=answers, terms=terms, lang=item.passage_lang)
        warn = f"<p style='color:#9a6700'>{html.escape(problem)}</p>" if problem else ""
        self.passage.setHtml(warn + body)
