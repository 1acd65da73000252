"""One model's ranked list in the compare view: a scrollable column of passage cards.

A :class:`HitCard` shows rank, score, a gold badge, the judgment grade once judged
(:attr:`Hit.judged`), the passage's rank in the other model of the pair with ↑ (the
other model ranks it better) or ↓ (worse, or not in its top k), the article title when the
passage has one, and the text with the answer span highlighted (while a blind campaign is
open: the title and the text only, no span). Clicking a card selects
the passage in every list (one controller call); the selected card shows its whole text.

Keyboard (the list takes focus with Tab): ↑/↓ or k/j move to the previous/next query,
Page Up/Down scroll, Enter/Space selects the first card.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.text.markup import RTL_LANGS, passage_html
from clirlens.core.workspace.comparison import Hit, QueryView


def _repolish(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class HitCard(QFrame):
    clicked = Signal(str)  # passage id

    def __init__(
        self,
        hit: Hit,
        other_name: str,
        k: int,
        parent: QWidget | None = None,
        *,
        blind: bool = False,
    ) -> None:
        super().__init__(parent)
        self.hit = hit
        self.blind = blind  # only the passage: no rank, score, gold, grade or other model
        self.setObjectName("hitCard")
        self.setProperty("gold", hit.gold and not blind)
        self.setProperty("selected", False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        head = QHBoxLayout()
        head.setSpacing(8)
        self.rank_label = QLabel(f"#{hit.rank}")
        self.rank_label.setObjectName("rankLabel")
        self.score_label = QLabel(f"{hit.score:.3f}")
        self.score_label.setObjectName("scoreLabel")
        self.score_label.setToolTip("similarity score")
        head.addWidget(self.rank_label)
        head.addWidget(self.score_label)
        if blind:  # (hide, never show: these have no parent yet, show would open windows)
            self.rank_label.hide()
            self.score_label.hide()
        if hit.gold and not blind:
            badge = QLabel("GOLD")
            badge.setObjectName("goldBadge")
            badge.setToolTip("relevant in the dataset's qrels")
            head.addWidget(badge)
        if hit.judged is not None and not blind:
            grade = QLabel(f"judged {hit.judged}")
            grade.setObjectName("gradeBadge")
            head.addWidget(grade)
        if hit.beyond and not blind:
            below = QLabel("below the shown list")
            below.setObjectName("beyondLabel")
            head.addWidget(below)
        if hit.passage.title:
            title = QLabel(hit.passage.title)
            title.setObjectName("titleLabel")
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            head.addWidget(title, 1)
        else:
            head.addStretch(1)
        self.other_label = QLabel(self._other_text(other_name, k))
        self.other_label.setObjectName("otherRank")
        self.other_label.setProperty("movement", hit.movement)
        self.other_label.setToolTip(f"rank of this passage in {other_name}")
        if blind:
            self.other_label.hide()
        head.addWidget(self.other_label)

        self.body = QLabel()
        self.body.setObjectName("passageText")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.body.setMinimumWidth(120)
        if hit.passage.lang in RTL_LANGS:
            self.body.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.set_expanded(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 7, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(head)
        layout.addWidget(self.body)

    def _other_text(self, other_name: str, k: int) -> str:
        arrow = {"up": "↑", "down": "↓", "same": "="}[self.hit.movement]
        where = str(self.hit.other_rank) if self.hit.other_rank is not None else f">{k}"
        return f"{other_name}: {where} {arrow}"

    @property
    def passage_id(self) -> str:
        return self.hit.passage.id

    def set_expanded(self, expanded: bool) -> None:
        p = self.hit.passage
        self.body.setText(
            passage_html(
                p.text, () if self.blind else self.hit.answer_spans, expanded=expanded, lang=p.lang
            )
        )

    def set_selected(self, selected: bool) -> None:
        if bool(self.property("selected")) != selected:
            self.setProperty("selected", selected)
            self.set_expanded(selected)
            _repolish(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.passage_id)
        super().mousePressEvent(event)


class RankedList(QScrollArea):
    """The ranked list of model ``model`` (see the module notes)."""

    def __init__(self, controller, model: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = model
        self.setObjectName("rankedList")
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards: list[HitCard] = []
        self._content = QWidget()
        self._content.setObjectName("rankedListContent")
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.setWidget(self._content)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setWordWrap(True)
        self._layout.insertWidget(0, self.empty_label)
        self.notice = QLabel()  # the selected passage, when this list does not hold it
        self.notice.setObjectName("hint")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self._layout.insertWidget(1, self.notice)
        self.more_button = QPushButton()
        self.more_button.setObjectName("showMore")
        self.more_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.more_button.clicked.connect(lambda: self.controller.show_more())
        self._layout.insertWidget(2, self.more_button)
        controller.queryViewChanged.connect(self._on_query_view_changed)
        controller.selectedPassageChanged.connect(self._on_selected_passage_changed)
        self._on_query_view_changed()

    # -- what other widgets read ------------------------------------------------------------------
    def card(self, passage_id: str) -> HitCard | None:
        return next((c for c in self.cards if c.passage_id == passage_id), None)

    # -- slots -------------------------------------------------------------------------------------
    def _on_query_view_changed(self) -> None:
        for card in self.cards:
            self._layout.removeWidget(card)
            card.hide()  # not painted while it waits for deletion
            card.deleteLater()
        self.cards = []
        view: QueryView | None = self.controller.query_view
        if view is None or self.model >= len(view.lists):
            self.empty_label.setText("")
            self.empty_label.setVisible(False)
            return
        other = view.models[view.other(self.model)]
        hits = view.lists[self.model]
        self.empty_label.setText("" if hits else "no passage retrieved")
        self.empty_label.setVisible(not hits)
        for i, hit in enumerate(hits):
            card = HitCard(hit, other, view.k, self._content, blind=self.controller.blind)
            card.clicked.connect(self.controller.select_passage)
            self._layout.insertWidget(2 + i, card)
            self.cards.append(card)
        listed = sum(1 for h in hits if not h.beyond)
        self.more_button.setVisible(not view.free_text and listed < view.k and listed >= 10)
        self.more_button.setText(f"Show 10 more (showing {listed} of the top {view.k})")
        self._on_selected_passage_changed(self.controller.selected_passage)
        self.verticalScrollBar().setValue(0)

    def _on_selected_passage_changed(self, passage_id: str) -> None:
        chosen = None
        for card in self.cards:
            card.set_selected(card.passage_id == passage_id)
            if card.passage_id == passage_id:
                chosen = card
        self._say_where(passage_id if chosen is None else "")
        if chosen is not None:  # once the expanded card has its new height
            QTimer.singleShot(0, lambda c=chosen: self._reveal(c))

    def _say_where(self, passage_id: str) -> None:
        """The selected passage is not in this list: say where this model ranks it."""
        view = self.controller.query_view
        if not passage_id or view is None or view.free_text or self.controller.blind:
            self.notice.setVisible(False)
            return
        found = self.controller.exact_rank(self.model, passage_id)
        where = f"rank {found[0]}, score {found[1]:.4f}" if found is not None else "rank unknown"
        self.notice.setText(f"{passage_id} is not in this model's top {view.k}: {where}")
        self.notice.setVisible(True)

    def _reveal(self, card: HitCard) -> None:
        if card in self.cards:
            self._layout.activate()  # geometry of freshly built or expanded cards
            self.ensureWidgetVisible(card, 0, 40)

    KEYS = (
        ("J, Down", "next query (a ranked list has the focus)"),
        ("K, Up", "previous query (a ranked list has the focus)"),
        ("Enter, Space", "select the list's first passage"),
    )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_J):
            self.controller.step_query(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_K):
            self.controller.step_query(-1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.cards:
            self.controller.select_passage(self.cards[0].passage_id)
        else:
            super().keyPressEvent(event)
