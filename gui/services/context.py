"""What every view is handed: the application's services, typed, in one record.

The main window builds one :class:`AppContext` and passes it to each view's constructor
(``View(context, parent)``), so no view looks its services up by itself, reaches into its
window or its parent widget, or reads raw settings keys:

* ``controller`` — the open workspace and what is shown (direction, query, passage, pair);
* ``judgments`` — the judgments database, the one undo stack, the current annotator;
* ``settings`` — the typed QSettings store (every key lives in
  :mod:`clirlens.gui.services.settings`);
* ``jobs`` — the controller's job runner (preparing directions, evaluations: one at a time,
  queued or superseding);
* ``persist`` — whether this window remembers user state (False for a screenshot, which
  neither reads nor writes the user's choices and never writes a judgment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clirlens.gui.services.controller import WorkspaceController
    from clirlens.gui.services.jobs import JobRunner
    from clirlens.gui.services.judgments import JudgmentsService
    from clirlens.gui.services.settings import Settings


@dataclass(frozen=True, eq=False)
class AppContext:
    controller: WorkspaceController
    judgments: JudgmentsService
    settings: Settings
    persist: bool = True

    @property
    def jobs(self) -> JobRunner:
        return self.controller.jobs

    @classmethod
    def create(
        cls, controller: WorkspaceController, settings: Settings, *, persist: bool = True
    ) -> AppContext:
        """A context around ``controller`` with a new judgments service."""
        from clirlens.gui.services.judgments import JudgmentsService

        return cls(controller, JudgmentsService(controller), settings, persist)
