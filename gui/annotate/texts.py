"""What the judging screen needs besides the database, kept out of the widget:

* :class:`TextSource`: the texts of pooled items. Storage keeps only a hash of each passage
  (datasets can be large and licensed), so the text, the answer spans and the English
  parallel question come from the open workspace's task for the item's direction: the
  prepared comparison's, or read by a job queued on the window's job runner (never on the
  GUI thread); until it arrives the item says so, then ``on_loaded`` redraws it. A text
  whose hash differs from the pooled one is shown with a warning.
* :func:`screenshot_campaign`: the campaign ``--screenshot … --view annotate`` shows.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from clirlens.core.data.store import passage_map
from clirlens.core.errors import UserError
from clirlens.core.types import Passage, Query, RetrievalTask
from clirlens.core.workspace.judging_plan import plan_campaign
from clirlens.storage.pool import text_hash
from clirlens.storage.records import PoolItem

LOADING = "reading the passage texts…"
_Entry = tuple[RetrievalTask | None, dict, str]


class TextSource:
    def __init__(self, controller, on_loaded: Callable[[], None] = lambda: None) -> None:
        self.controller = controller
        self.on_loaded = on_loaded
        self._tasks: dict[tuple[str, str], _Entry] = {}
        self._titles: set[str] = set()  # the reading jobs queued and not yet done

    def clear(self) -> None:
        """Forget every text (another workspace); reading jobs still waiting are dropped."""
        for title in self._titles:
            self.controller.jobs.dequeue(title)
        self._titles.clear()
        self._tasks.clear()

    def _task(self, query_lang: str, doc_lang: str) -> _Entry:
        key = (query_lang, doc_lang)
        if key in self._tasks:
            return self._tasks[key]
        ws = self.controller.workspace
        if ws is None:
            return self._keep(
                key, None, "open the workspace this campaign was made from to see its texts"
            )
        if query_lang not in ws.query_langs or doc_lang not in ws.doc_langs:
            return self._keep(
                key, None, f"this workspace has no direction {query_lang} → {doc_lang}"
            )
        comparison = ws.comparison(query_lang, doc_lang)
        if comparison is not None:
            return self._keep(key, comparison.task, "")
        title = f"Reading texts {query_lang}→{doc_lang}"
        if title not in self._titles:
            self._titles.add(title)
            self.controller.jobs.queue(
                title,
                ws.task(query_lang, doc_lang),
                lambda task, k=key, t=title, w=ws: self._arrived(k, t, w, task, ""),
                lambda reason, k=key, t=title, w=ws: self._stopped(k, t, w, reason),
            )
        return None, {}, LOADING

    def _keep(self, key: tuple[str, str], task: RetrievalTask | None, problem: str) -> _Entry:
        entry = (task, passage_map(task.corpus) if task is not None else {}, problem)
        self._tasks[key] = entry
        return entry

    def _arrived(self, key, title, workspace, task, problem) -> None:
        self._titles.discard(title)
        if workspace is not self.controller.workspace:
            return  # read for a workspace that is no longer open
        self._keep(key, task, problem)
        self.on_loaded()

    def _stopped(self, key, title, workspace, reason: str) -> None:
        """A failed read is remembered (its error is in the message area); a cancelled or
        superseded one is asked for again by the next redraw."""
        if reason == "failed":
            self._arrived(
                key, title, workspace, None, "reading them failed (see the message above)"
            )
        else:
            self._titles.discard(title)
            if workspace is self.controller.workspace:
                self.on_loaded()

    def passage(self, item: PoolItem) -> tuple[Passage | None, str]:
        """The passage, and a problem to show ("" when none)."""
        task, passages, problem = self._task(item.query.lang, item.passage_lang)
        if task is None and problem == LOADING:
            return None, f"Passage {item.passage_id}: {LOADING}"
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
