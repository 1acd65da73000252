"""The state the widgets show, and the one place user actions go through.

:class:`WorkspaceController` wraps a core :class:`~clirlens.core.workspace.workspace.Workspace` for
Qt: it owns the current direction, comparison, filter, sort, pair of models, query and
selected passage, runs long work through a :class:`~clirlens.gui.services.jobs.JobRunner`, and
announces every change with a signal (Qt naming: ``somethingChanged``). Widgets receive it
in their constructor, redraw in their ``_on_*`` slots and turn each user action into one
method call here; all numbers come from core (:mod:`clirlens.core.workspace.comparison`).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal

from clirlens.core.errors import UserError
from clirlens.core.progress import relabel
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Direction
from clirlens.core.workspace.comparison import Comparison, GradeLookup, Pair, QueryRow, QueryView
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace
from clirlens.gui.services.jobs import Failure, JobRunner


class WorkspaceController(QObject):
    workspaceChanged = Signal()  # a workspace was opened (directions, models may differ)
    directionChanged = Signal(str, str)  # query language, document language (now shown)
    pendingDirectionChanged = Signal()  # a direction is being prepared (or no longer)
    comparisonChanged = Signal()  # the direction's comparison arrived (or was cleared)
    rowsChanged = Signal()  # the browser's rows (filter, sort, pair, comparison)
    currentQueryChanged = Signal(str)  # query id ("" for none or a free-text query)
    queryViewChanged = Signal()  # what the compare view shows
    selectedPassageChanged = Signal(str)  # passage id ("" for none)
    statusChanged = Signal(str)  # a short note for the status bar
    errorOccurred = Signal(object)  # Failure: every error ends up here
    errorResolved = Signal(str)  # the cause of the errors with this title is gone
    viewRequested = Signal(str)  # a view asks the window to show another view (by name)
    blindChanged = Signal(bool)  # blind judging is on screen: hide which model ranks what

    def __init__(
        self,
        jobs: JobRunner | None = None,
        cache: Cache | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.jobs = jobs or JobRunner(self)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.cache = cache
        self.workspace: Workspace | None = None
        self.direction: tuple[str, str] | None = None
        self.pending_direction: tuple[str, str] | None = None  # being prepared, not yet shown
        self.comparison: Comparison | None = None
        self.rows: list[QueryRow] = []
        self.filter_text = ""
        self.sort_key = "order"
        self.pair: Pair = (0, 1)
        self.current_query = ""
        self.last_query = ""  # the dataset query shown before a free-text one
        self.query_view: QueryView | None = None
        self.selected_passage = ""
        self.shown = 10
        self._exact: dict[tuple, tuple[int, float] | None] = {}
        self.judged: GradeLookup | None = None  # judgment grades per passage
        self.blind = False  # a blind judging campaign is open
        self.campaign_queries: frozenset[str] | None = None  # the open campaign's queries
        self.campaign_only = False  # the query list shows the campaign's queries only

    # -- errors ---------------------------------------------------------------------------------
    def report(self, title: str, exc: BaseException) -> None:
        """Send an error to the window's message area (never raises)."""
        self.errorOccurred.emit(Failure.from_exception(title, exc))

    def resolve(self, title: str) -> None:
        """What failed under ``title`` works again: its message goes away."""
        self.errorResolved.emit(title)

    def _on_failed(self, failure: Failure) -> None:
        self.statusChanged.emit(f"{failure.title} failed")
        self.errorOccurred.emit(failure)

    def _on_cancelled(self, title: str) -> None:
        self.statusChanged.emit(f"{title}: cancelled")

    # -- workspace and direction ------------------------------------------------------------------
    @property
    def models(self) -> tuple[str, ...]:
        return self.workspace.models if self.workspace else ()

    def open_workspace(self, config: WorkspaceConfig) -> bool:
        """Open ``config`` and start preparing its first direction. False (and the error
        reported) when it cannot be opened; the current workspace then stays."""
        try:
            workspace = Workspace(config, cache=self.cache)
        except UserError as exc:
            self.report("Opening the workspace", exc)
            return False
        self.jobs.cancel()
        self.workspace = workspace
        self.pair = (0, 1)
        self.direction = None
        self.pending_direction = None
        self._set_comparison(None)
        self.workspaceChanged.emit()
        self.set_direction(*workspace.default_direction)
        return True

    def set_direction(self, query_lang: str, doc_lang: str) -> None:
        """Show the direction query_lang → doc_lang, preparing it in a worker if needed; what
        is shown stays until the new direction is ready, and the selected query follows it
        (XQuAD's question ids are the same in every language)."""
        wanted = Direction(query_lang, doc_lang)
        if self.workspace is None or wanted in (self.direction, self.pending_direction):
            return
        ready = self.workspace.comparison(*wanted)
        if ready is not None:
            self.pending_direction = None
            self.pendingDirectionChanged.emit()
            self._show(wanted, ready)
            return
        self.pending_direction = wanted
        self.pendingDirectionChanged.emit()
        self.jobs.start(
            f"Preparing {wanted.arrow}",
            self.workspace.prepare(*wanted),
            lambda c, d=wanted: self._on_prepared(d, c),
            lambda _reason, d=wanted: self._on_not_prepared(d),
        )

    def prepare_directions(self, directions) -> None:
        """Prepare several directions in one job (one progress bar), showing none of them."""
        if self.workspace is None:
            return
        todo = [Direction(*d) for d in directions if self.workspace.comparison(*d) is None]
        if not todo:
            self.statusChanged.emit("every chosen direction is prepared")
            return

        def job():
            for i, d in enumerate(todo):
                yield from relabel(self.workspace.prepare(*d), f"[{i + 1}/{len(todo)}] {d.arrow}")
            return len(todo)

        self.jobs.queue(
            f"Preparing {len(todo)} directions",
            job(),
            lambda n: self.statusChanged.emit(f"prepared {n} directions"),
        )

    def retry(self) -> None:
        """Prepare the current direction again (after a cancel or an error)."""
        if self.workspace is None:
            return
        target = self.pending_direction or (self.direction if self.comparison is None else None)
        if target is None:
            return
        self.pending_direction = None
        if target == self.direction:
            self.direction = None
        self.set_direction(*target)

    def _on_prepared(self, direction: Direction, comparison: Comparison) -> None:
        if direction != self.pending_direction:
            return
        self.pending_direction = None
        self.pendingDirectionChanged.emit()
        self._show(direction, comparison)
        notes = self.workspace.index_notes(direction.doc_lang) if self.workspace else []
        self.statusChanged.emit(
            f"{comparison.task.name}: {len(comparison.rows())} queries, "
            f"{len(comparison.task.corpus):,} passages" + "".join(f"; {n}" for n in notes)
        )

    def _on_not_prepared(self, direction: Direction) -> None:
        if direction == self.pending_direction and self.comparison is not None:
            self.pending_direction = None  # cancelled or failed: the old direction stays
            self.pendingDirectionChanged.emit()
        elif direction == self.pending_direction:
            self.direction = direction  # nothing shown yet: this is the one to retry
            self.pending_direction = None
            self.pendingDirectionChanged.emit()
            self.directionChanged.emit(*direction)

    def _show(self, direction: Direction, comparison: Comparison) -> None:
        keep = self.current_query
        self.direction = direction
        self.directionChanged.emit(*direction)
        self._set_comparison(comparison, keep)

    def _set_comparison(self, comparison: Comparison | None, keep: str = "") -> None:
        self.comparison = comparison
        self.current_query = self.last_query = ""
        self.query_view = None
        self.selected_passage = ""
        self._refresh_rows()
        self.comparisonChanged.emit()
        self.currentQueryChanged.emit("")
        self.queryViewChanged.emit()
        ids = [r.query.id for r in self.rows]
        if ids:
            self.select_query(keep if keep in ids else ids[0])

    def cancel(self) -> bool:
        return self.jobs.cancel()

    def set_database(self, db: str | None) -> None:
        """The open workspace keeps its judgments in ``db`` from now on (recorded in its
        config, so it is saved and reopened with it)."""
        if self.workspace is not None:
            self.workspace.config = dataclasses.replace(self.workspace.config, db=db)

    # -- browsing -------------------------------------------------------------------------------
    def _refresh_rows(self) -> None:
        c = self.comparison
        sort = "order" if self.blind else self.sort_key  # a sort by model would tell
        self.rows = c.browse(self.filter_text, sort, self.pair) if c else []
        if self.campaign_only and self.campaign_queries is not None:
            self.rows = [r for r in self.rows if r.query.id in self.campaign_queries]
        self.rowsChanged.emit()

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._refresh_rows()

    def set_sort(self, key: str) -> None:
        if key != self.sort_key:
            self.sort_key = key
            self._refresh_rows()

    def set_pair(self, a: int, b: int) -> None:
        """Compare model ``a`` with model ``b`` (disagreement, agreement, arrows)."""
        n = len(self.models)
        pair = (min(a, b), max(a, b))
        if a == b or pair == self.pair or not (0 <= a < n and 0 <= b < n):
            return
        self.pair = pair
        self._refresh_rows()
        if self.current_query:
            self.select_query(self.current_query, force=True)

    def select_query(self, query_id: str, force: bool = False) -> None:
        if self.comparison is None or (query_id == self.current_query and not force):
            return
        self.current_query = self.last_query = query_id
        self.selected_passage = ""
        self.query_view = self.comparison.view(query_id, self.pair, self.shown, self.judged)
        self.currentQueryChanged.emit(query_id)
        self.queryViewChanged.emit()
        self.selectedPassageChanged.emit("")

    def step_query(self, delta: int) -> None:
        """Move ``delta`` rows through the browser's current order (clamped)."""
        if not self.rows:
            return
        ids = [r.query.id for r in self.rows]
        pos = ids.index(self.current_query) + delta if self.current_query in ids else 0
        self.select_query(ids[max(0, min(len(ids) - 1, pos))])

    def back_to_dataset_query(self) -> None:
        """Leave a free-text query for the dataset query shown before it."""
        ids = [r.query.id for r in self.rows]
        target = self.last_query if self.last_query in ids else (ids[0] if ids else "")
        if target:
            self.select_query(target, force=True)

    def select_passage(self, passage_id: str) -> None:
        """Select a passage in every list (selecting it again clears the selection); a list
        that ranks it below what it shows (within the depth) shows down to it."""
        self.selected_passage = "" if passage_id == self.selected_passage else passage_id
        qv = self.query_view
        if self.selected_passage and qv is not None and self.comparison is not None:
            ranks = [
                r.rank_of(qv.query.id, passage_id) or 0
                for r in (self.comparison.runs if not qv.free_text else ())
            ]
            deepest = max((x for x in ranks if x <= self.comparison.k), default=0)
            if deepest > self.shown:
                self.shown = deepest
                self._rebuild_view()
        self.selectedPassageChanged.emit(self.selected_passage)

    def show_more(self, step: int = 10) -> None:
        """Show ``step`` more passages of every list, down to the retrieval depth."""
        if self.comparison is None or self.shown >= self.comparison.k:
            return
        self.shown = min(self.shown + step, self.comparison.k)
        self._rebuild_view()

    def _rebuild_view(self) -> None:
        if self.current_query and self.comparison is not None:
            self.query_view = self.comparison.view(
                self.current_query, self.pair, self.shown, self.judged
            )
            self.queryViewChanged.emit()

    def exact_rank(self, model: int, passage_id: str) -> tuple[int, float] | None:
        """Model ``model``'s rank and score of ``passage_id`` for the current dataset query
        over the whole corpus (below the depth too), remembered per query."""
        if self.workspace is None or self.direction is None or not self.current_query:
            return None
        key = (self.direction, self.current_query, model, passage_id)
        if key not in self._exact:
            try:
                self._exact[key] = self.workspace.exact_rank(
                    model, *self.direction, self.current_query, passage_id
                )
            except UserError:
                self._exact[key] = None
        return self._exact[key]

    def set_campaign(self, queries: frozenset[str] | None, blind: bool) -> None:
        """A judging campaign over ``queries`` was opened (None: closed). While a blind one
        is open every view hides what would tell the annotator which model found a passage
        or which passage is gold: gold badges, ranks, scores, model names, answer spans;
        and the query list then shows the campaign's queries only (its choice, after)."""
        self.campaign_queries = queries
        if blind and not self.blind:
            self.campaign_only = True
        if queries is None:
            self.campaign_only = False
        changed = blind != self.blind
        self.blind = blind
        if changed:
            self.blindChanged.emit(blind)
        self._refresh_rows()
        if changed and self.current_query:  # the lists are drawn again, blind or not
            self.queryViewChanged.emit()

    def set_campaign_only(self, only: bool) -> None:
        if only != self.campaign_only:
            self.campaign_only = only
            self._refresh_rows()

    def request_view(self, name: str) -> None:
        """Ask the window to show view ``name`` (e.g. the compare view opening "align" for
        the selected passage, or for the query and its English parallel)."""
        self.viewRequested.emit(name)

    def search_text(self, text: str, lang: str | None = None) -> None:
        """Search a free-text query in language ``lang`` (default: the direction's query
        language) with every model (in a worker)."""
        if self.workspace is None or self.direction is None or self.comparison is None:
            self.report(
                "Free-text search",
                UserError("open a workspace and wait for it to be prepared before searching"),
            )
            return
        job = self.workspace.search_text(
            text, *self.direction, pair=self.pair, shown=self.shown, lang=lang
        )
        self.jobs.start("Searching", job, self._on_free_text)

    def _on_free_text(self, view: QueryView) -> None:
        self.current_query = ""
        self.selected_passage = ""
        self.query_view = view
        self.currentQueryChanged.emit("")
        self.queryViewChanged.emit()
        self.selectedPassageChanged.emit("")

    # -- hooks ------------------------------------------------------------------------------------
    def set_judgments(self, lookup: GradeLookup | None) -> None:
        """Show judgment grades in the ranked lists (the judgments service passes its lookup)."""
        self.judged = lookup
        if self.current_query:
            self.select_query(self.current_query, force=True)

    def shutdown(self) -> None:
        self.jobs.shutdown()
