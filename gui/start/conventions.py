"""The start dialog's conventions panel: what the selected model runs with, and where each
convention comes from (its preset, its sentence-transformers files, the user, or a guess).

A folder or hub id that is not a preset can be bound to one ("as me5-small": its ``--model``
value becomes ``me5-small=DIR``, exactly what the command line takes) or have its
conventions set by hand (pooling, similarity, prefixes, max length, title rule: written into
the ``--model`` value, see :func:`clirlens.core.models.spec.model_arg`), so the window and
``clirlens eval`` run the same model the same way.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.models.loading import peek_conventions
from clirlens.core.models.notes import convention_note
from clirlens.core.models.spec import PRESETS, ModelSpec, model_arg, parse_model_arg

FILES = "files"  # the binding "from the model's files (or guesses)"
BY_HAND = "hand"
LABELS = {
    "pooling": "pooling",
    "similarity": "similarity",
    "query_prefix": "query prefix",
    "passage_prefix": "passage prefix",
    "max_length": "max length",
    "title_join": "title",
    "lowercase": "letter case",
}


def source_of(arg: str) -> str:
    """The folder or hub id a ``--model`` value names (without preset and conventions)."""
    head = arg.split(";", 1)[0]
    return head.split("=", 1)[1] if "=" in head else head


def binding_of(arg: str) -> str:
    """How ``arg`` is bound: a preset name, :data:`BY_HAND` or :data:`FILES`."""
    head, _, hand = arg.partition(";")
    if "=" in head:
        return head.split("=", 1)[0]
    return BY_HAND if hand.strip() else FILES


def describe(spec: ModelSpec) -> str:
    """The conventions as rich text, one per line with where it came from."""
    import html

    lines = []
    for key, value, origin in spec.describe_conventions():
        shown = "not used" if key == "title_join" and value is None else repr(value)
        if key == "lowercase":
            shown = {None: "as the tokenizer says", True: "lower-cased", False: "cased"}[value]
        lines.append(f"{LABELS[key]}: <b>{html.escape(shown)}</b> <i>({html.escape(origin)})</i>")
    return "<br>".join(lines)


class ConventionsPanel(QWidget):
    """Shows one model's conventions; ``argChanged(old, new)`` when the user rebinds it."""

    argChanged = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.arg = ""
        self.binding = QComboBox()
        self.binding.addItem("from the model's files (or guessed)", FILES)
        for name, spec in PRESETS.items():
            if spec.kind == "dense":
                self.binding.addItem(f"as preset {name} ({spec.source})", name)
        self.binding.addItem("set by hand", BY_HAND)
        self.binding.setToolTip(
            "which conventions this model runs with: bind a downloaded copy of a preset's "
            "model to the preset, or set them"
        )
        self.binding.activated.connect(self._on_binding)
        self.pooling = QComboBox()
        self.pooling.addItems(["mean", "cls"])
        self.similarity = QComboBox()
        self.similarity.addItem("cosine", "cosine")
        self.similarity.addItem("inner product", "ip")
        self.query_prefix = QLineEdit()
        self.passage_prefix = QLineEdit()
        self.max_length = QSpinBox(minimum=1, maximum=8192, value=512)
        self.title = QLineEdit()
        self.title.setPlaceholderText("empty: titles not used; e.g. a space joins title and text")
        self.hand = QWidget()
        form = QFormLayout(self.hand)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Pooling", self.pooling)
        form.addRow("Similarity", self.similarity)
        form.addRow("Query prefix", self.query_prefix)
        form.addRow("Passage prefix", self.passage_prefix)
        form.addRow("Max length", self.max_length)
        form.addRow("Title + text", self.title)
        for box in (self.pooling, self.similarity):
            box.currentIndexChanged.connect(self._on_hand_edited)
        for edit in (self.query_prefix, self.passage_prefix, self.title):
            edit.editingFinished.connect(self._on_hand_edited)
        self.max_length.editingFinished.connect(self._on_hand_edited)
        self.title_label = QLabel()
        self.text = QLabel()
        self.text.setObjectName("hint")
        self.text.setWordWrap(True)
        self.note = QLabel()
        self.note.setObjectName("formError")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.title_label)
        row.addWidget(self.binding, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.hand)
        layout.addWidget(self.text)
        layout.addWidget(self.note)
        self.show_arg("")

    def show_arg(self, arg: str) -> None:
        """Show the conventions ``arg`` runs with ("" shows nothing)."""
        self.arg = arg
        self.setVisible(bool(arg))
        if not arg:
            return
        try:
            spec = peek_conventions(parse_model_arg(arg))
        except UserError as exc:
            self.text.setText("")
            self.note.setText(str(exc))
            return
        self.title_label.setText(f"Conventions of <b>{spec.name}</b>")
        fixed = arg in PRESETS or spec.kind != "dense"  # a preset by name: its own recipe
        self.binding.setEnabled(not fixed)
        binding = binding_of(arg)
        self.binding.setCurrentIndex(max(0, self.binding.findData(binding)))
        self.hand.setVisible(binding == BY_HAND)
        if binding == BY_HAND:
            self._fill_hand(spec)
        self.text.setText(describe(spec))
        note = convention_note(spec)
        self.note.setText(f"⚠ {note}" if note else "")
        self.note.setVisible(bool(note))

    def _fill_hand(self, spec: ModelSpec) -> None:
        widgets = (self.pooling, self.similarity, self.query_prefix, self.passage_prefix)
        for w in (*widgets, self.max_length, self.title):
            w.blockSignals(True)
        self.pooling.setCurrentText(spec.pooling)
        self.similarity.setCurrentIndex(self.similarity.findData(spec.similarity))
        self.query_prefix.setText(spec.query_prefix)
        self.passage_prefix.setText(spec.passage_prefix)
        self.max_length.setValue(spec.max_length)
        self.title.setText(spec.title_join or "")
        for w in (*widgets, self.max_length, self.title):
            w.blockSignals(False)

    def _rebind(self, new: str) -> None:
        old, self.arg = self.arg, new
        if new != old:
            self.argChanged.emit(old, new)
        self.show_arg(new)

    def _on_binding(self, _index: int) -> None:
        binding = self.binding.currentData()
        source = source_of(self.arg)
        if binding == FILES:
            self._rebind(source)
        elif binding == BY_HAND:
            spec = peek_conventions(parse_model_arg(source))
            self._rebind(model_arg(source, None, self._hand_values(spec)))
        else:
            self._rebind(model_arg(source, binding))

    def _hand_values(self, spec: ModelSpec | None = None) -> dict[str, object]:
        if spec is not None:  # start from what the model runs with now
            self._fill_hand(spec)
        return {
            "pooling": self.pooling.currentText(),
            "similarity": self.similarity.currentData(),
            "query_prefix": self.query_prefix.text(),
            "passage_prefix": self.passage_prefix.text(),
            "max_length": self.max_length.value(),
            "title_join": self.title.text() or None,
        }

    def _on_hand_edited(self, *_: object) -> None:
        if binding_of(self.arg) == BY_HAND:
            self._rebind(model_arg(source_of(self.arg), None, self._hand_values()))
