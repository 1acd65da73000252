"""Judgment edits as do/undo commands (docs/architecture.md §2.4), free of Qt.

The GUI wraps each in a ``QUndoCommand`` on its one ``QUndoStack``::

    class UndoableJudgment(QUndoCommand):
        def __init__(self, command: JudgeCommand) -> None:
            super().__init__(command.text)
            self.command = command

        def redo(self) -> None:  # QUndoStack.push() calls redo() once: that is the "do"
            self.command.do()

        def undo(self) -> None:
            self.command.undo()

``do()`` applies the edit and remembers the history entry it wrote; ``undo()`` restores the
exact state from before that entry (grade, note, time spent, timestamps, or no judgment at
all) through :meth:`JudgmentRepository.revert`, which refuses if the judgment changed in the
meantime (another window of the same annotator) rather than overwrite that change. Redo is
``do()`` again. Both return the :class:`~clirlens.storage.records.Change`, whose ``judgment``
the view can show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .changes import UNCHANGED, NoteArg
from .records import GRADE_LABELS, Change

if TYPE_CHECKING:
    from .repository import JudgmentRepository


class JudgeCommand:
    """Give (or with ``grade=None`` remove) ``annotator``'s grade of one pooled item."""

    def __init__(
        self,
        repo: JudgmentRepository,
        item_id: int,
        annotator: str,
        grade: int | None,
        *,
        note: NoteArg = UNCHANGED,
        seconds_spent: float | None = None,
    ) -> None:
        self.repo = repo
        self.item_id = item_id
        self.annotator = annotator
        self.grade = grade
        self.note = note
        self.seconds_spent = seconds_spent
        self._entry_id: int | None = None

    @property
    def text(self) -> str:
        """For the Edit menu: "Undo <text>"."""
        if self.grade is None:
            return f"clear judgment of item {self.item_id}"
        return f"judge item {self.item_id} {GRADE_LABELS.get(self.grade, self.grade)}"

    @property
    def done(self) -> bool:
        return self._entry_id is not None

    def do(self) -> Change:
        if self._entry_id is not None:
            raise RuntimeError(f"{self.text}: already done")
        change = self.repo.change(
            self.item_id,
            self.annotator,
            self.grade,
            note=self.note,
            seconds_spent=self.seconds_spent,
        )
        self._entry_id = change.entry.id
        return change

    def undo(self) -> Change:
        if self._entry_id is None:
            raise RuntimeError(f"{self.text}: undo before do")
        change = self.repo.revert(self._entry_id)
        self._entry_id = None
        return change


class ClearJudgmentCommand(JudgeCommand):
    """Remove ``annotator``'s judgment of one item; undo brings it back exactly."""

    def __init__(self, repo: JudgmentRepository, item_id: int, annotator: str) -> None:
        super().__init__(repo, item_id, annotator, None)
