"""The application's views, by name (Qt-free, so ``--view`` choices are known without
importing Qt).

A view is a widget shown in the main window's central area; it is created with the
window's :class:`~clirlens.gui.services.context.AppContext` (the controller it shows, the
judgments service, the settings, the job runner). The window's View menu, its
Ctrl+<digit> shortcuts and ``clirlens --screenshot FILE --view NAME`` all read this registry.
Later views register here with :func:`register_view`::

    register_view(ViewSpec("align", "Alignment", "clirlens.gui.align.view:AlignView"))
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ViewSpec:
    name: str  # used by --view and the settings
    title: str  # menu and tab text
    factory: str  # "module:attribute", called with the AppContext (and parent) -> QWidget
    description: str = ""

    def create(self, context: Any, parent: Any = None) -> Any:
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)(context, parent)


VIEWS: dict[str, ViewSpec] = {}


def register_view(spec: ViewSpec) -> None:
    if spec.name in VIEWS and VIEWS[spec.name] != spec:
        raise ValueError(f"a different view is already registered as {spec.name!r}")
    VIEWS[spec.name] = spec


register_view(
    ViewSpec(
        "compare",
        "Compare",
        "clirlens.gui.compare.view:CompareView",
        "two retrievers' ranked lists for the selected query",
    )
)
register_view(
    ViewSpec(
        "annotate",
        "Annotate",
        "clirlens.gui.annotate.view:AnnotateView",
        "judge pooled passages 0–3 (blind), with undo, progress and agreement",
    )
)
register_view(
    ViewSpec(
        "evaluate",
        "Evaluate",
        "clirlens.gui.evaluate.view:DashboardView",
        "metrics per direction and model from gold qrels and judgments; OT alignment",
    )
)
register_view(
    ViewSpec(
        "align",
        "Alignment",
        "clirlens.gui.align.view:AlignView",
        "OT token alignment of the query with its English parallel or the selected passage",
    )
)
register_view(
    ViewSpec(
        "distill",
        "Distill",
        "clirlens.gui.distill.view:DistillView",
        "distil a low-resource query encoder from an English teacher (OPTICAL), watched live",
    )
)
