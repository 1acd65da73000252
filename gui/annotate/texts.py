"""What the judging screen needs besides the database (issue 7), kept out of the widget:

* :class:`TextSource`: the texts of pooled items. Storage keeps only a hash of each passage
  (datasets can be large and licensed), so the text, the answer spans and the English
  parallel question come from the open workspace's task for the item's direction (the
  prepared comparison's, or read now: XQuAD files are parsed once and cached); a text whose
  hash differs from the pooled one is shown with a warning.
* :class:`SettingsMemory`: the last campaign and annotator, in the window's settings.
* :func:`screenshot_campaign`: the campaign ``--screenshot … --view annotate`` shows.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from clirlens.core.errors import UserError
from clirlens.core.progress import run
from clirlens.core.types import Passage, Query, RetrievalTask
from clirlens.core.workspace.judging_plan import plan_campaign
from clirlens.storage.pool import text_hash
from clirlens.storage.records import PoolItem


class TextSource:
    def __init__(self, controller) -> None:
        self.controller = controller
        self._tasks: dict[tuple[str, str], tuple[RetrievalTask | None, dict, str]] = {}

    def clear(self) -> None:
        self._tasks.clear()

    def _task(self, query_lang: str, doc_lang: str) -> tuple[RetrievalTask | None, dict, str]:
        key = (query_lang, doc_lang)
        if key not in self._tasks:
            ws = self.controller.workspace
            task, problem = None, ""
            if ws is None:
                problem = "open the workspace this campaign was made from to see its texts"
            elif query_lang not in ws.query_langs or doc_lang not in ws.doc_langs:
                problem = f"this workspace has no direction {query_lang} → {doc_lang}"
            else:
                comparison = ws.comparison(query_lang, doc_lang)
                try:
                    task = comparison.task if comparison else run(ws.task(query_lang, doc_lang))
                except UserError as exc:
                    problem = str(exc)
            passages = {p.id: p for p in task.corpus} if task is not None else {}
            self._tasks[key] = (task, passages, problem)
        return self._tasks[key]

    def passage(self, item: PoolItem) -> tuple[Passage | None, str]:
        """The passage, and a problem to show ("" when none)."""
        task, passages, problem = self._task(item.query.lang, item.passage_lang)
        if task is None:
            return None, f"Passage text unavailable: {problem}."
        passage = passages.get(item.passage_id)
        if passage is None:
            return None, (
                f"Passage {item.passage_id} is not in this workspace's corpus "
                "(another dataset or subset?)."
            )
        if item.passage_hash and text_hash(passage.text) != item.passage_hash:
            return passage, "This text differs from the one that was pooled (dataset changed?)."
        return passage, ""

    def parallel(self, item: PoolItem) -> Query | None:
        task = self._task(item.query.lang, item.passage_lang)[0]
        p = task.parallel.get(item.query.id) if task is not None else None
        return p if p is not None and p.text != item.query.text else None

    def answers(self, item: PoolItem) -> list[tuple[int, int]]:
        """The gold answer spans, when the item's passage is the query's gold passage."""
        task = self._task(item.query.lang, item.passage_lang)[0]
        if task is None or item.passage_id not in task.qrels.relevant(item.query.id):
            return []
        return [(a.start, a.end) for a in task.answers.get(item.query.id, ())]

    def oracle_grade(self, item: PoolItem) -> int:
        """3 for the dataset's gold passage, else 0 (the screenshot's demo judgments)."""
        task = self._task(item.query.lang, item.passage_lang)[0]
        return (
            3 if task is not None and item.passage_id in task.qrels.relevant(item.query.id) else 0
        )


class SettingsMemory:
    """The judging screen's remembered choices, in the main window's settings when the view
    sits in one (nothing is remembered otherwise)."""

    def __init__(self, widget) -> None:
        self.widget = widget

    def _store(self):
        settings = getattr(self.widget.window(), "settings", None)
        return getattr(settings, "store", None)

    def _get(self, key: str) -> str:
        store = self._store()
        value = store.value(key, "") if store is not None else ""
        return value if isinstance(value, str) else ""

    def _set(self, key: str, value: str) -> None:
        store = self._store()
        if store is not None and getattr(self.widget.window(), "persist", True):
            store.setValue(key, value)

    @property
    def campaign(self) -> str:
        return self._get("annotate/campaign")

    @campaign.setter
    def campaign(self, name: str) -> None:
        self._set("annotate/campaign", name)

    @property
    def annotator(self) -> str:
        return self._get("annotate/annotator")

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._set("annotate/annotator", name)


def screenshot_campaign(controller, service) -> str:
    """The campaign a screenshot shows: with an explicit ``--db`` that holds campaigns, its
    newest; otherwise a demo campaign (the 6 queries where models A and B disagree most,
    top 5, blind) in a scratch database that is removed at exit."""
    ws = controller.workspace
    comparison = controller.comparison
    if ws is None or comparison is None:
        raise UserError("the annotate screenshot needs a prepared workspace")
    if ws.config.db:
        repo = service.repository()
        campaigns = sorted(repo.campaigns(), key=lambda c: c.created_at) if repo else []
        if campaigns:
            return campaigns[-1].name
    scratch = Path(tempfile.mkdtemp(prefix="clirlens-screenshot-"))
    atexit.register(shutil.rmtree, scratch, True)
    repo = service.use_database(scratch / "judgments.sqlite")
    plan = plan_campaign(
        comparison, mode="disagreement", n=6, pair=controller.pair, dataset=ws.config.dataset
    )
    name = f"{plan.direction} pilot"
    repo.create_campaign(
        name,
        plan.runs,
        plan.queries,
        plan.passages,
        depth=5,
        blind=True,
        dataset=plan.dataset,
        directions=[plan.direction],
    )
    return name
