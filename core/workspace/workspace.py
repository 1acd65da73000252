"""A workspace: one dataset, two or more retrievers, and their comparison per direction.

This is the service behind the application window, kept free of Qt so that the
widgets stay thin and the logic is tested headless:

* :class:`WorkspaceConfig` says what to open (JSON-able, so it is remembered between
  sessions): an XQuAD or BEIR folder, ``--model`` values, query and document languages,
  an optional subset (the first N articles of XQuAD, the first N passages of a BEIR corpus,
  for quick looks and tests), the retrieval depth ``k`` and the encoder precision.
* :class:`Workspace` opens it (validating cheaply: folder, languages, model names) and, per
  direction (query language → document language), :meth:`Workspace.prepare` is the long
  job: read the task, prepare every retriever on the document-language corpus (embeddings
  come from the on-disk cache when present, so reopening does not re-encode), search all
  queries to depth ``k`` and compute the per-query comparison
  (:mod:`clirlens.core.workspace.comparison`: gold ranks with *missing rank = k + 1*, disagreement
  ``|rank_A - rank_B|``, agreement of the top lists).
* :meth:`Workspace.search_text` runs a free-text query through the prepared retrievers.

Jobs are generators yielding :class:`Progress` (see :mod:`clirlens.core.progress`); stopping
one at a yield leaves the caches consistent, because core stores only completed entries.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from clirlens.core.data.beir import load_beir_job
from clirlens.core.data.irds import check_name, languages, load_irds_job
from clirlens.core.data.xquad import LANG_CODE, LOW_RESOURCE, load_xquad
from clirlens.core.errors import DataError, UserError
from clirlens.core.models.notes import convention_notes
from clirlens.core.models.spec import ModelSpec, parse_model_arg
from clirlens.core.progress import Job, relabel, run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Direction, Passage, Progress, Qrels, Query, RetrievalTask, Run
from clirlens.core.workspace.comparison import Comparison, Pair, QueryView, compare
from clirlens.core.workspace.config import WorkspaceConfig

FREE_TEXT_ID = "free-text"
_PID = re.compile(r"^a(\d+)-p\d+$")


def _unique(specs: Iterable[ModelSpec]) -> tuple[ModelSpec, ...]:
    """Specs with distinct names (a repeated name gets ``#2``, ``#3``…)."""
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        n = seen.get(spec.name, 0) + 1
        seen[spec.name] = n
        out.append(spec if n == 1 else dataclasses.replace(spec, name=f"{spec.name}#{n}"))
    return tuple(out)


def _lang_order(available: Iterable[str], first: tuple[str, ...]) -> tuple[str, ...]:
    langs = sorted(available)
    return tuple([x for x in first if x in langs] + [x for x in langs if x not in first])


def _tagged(job: Job[Any], step: str, model: str) -> Job[Any]:
    """``job`` with its progress messages prefixed by ``step`` and the model's name (when
    the message does not name it already)."""
    return relabel(job, lambda m: f"{step} {m if model in m else f'{model}: {m}'}".strip())


class Workspace:
    """An opened :class:`WorkspaceConfig` (see the module notes).

    Opening is cheap and validates what it can without reading data or loading models:
    dataset folder, languages, model names. Raises :class:`UserError` (one line) otherwise.
    """

    def __init__(
        self, config: WorkspaceConfig, cache: Cache | None = None, *, min_models: int = 2
    ) -> None:
        if len(config.models) < min_models:
            raise UserError(
                "a workspace compares at least two models: give --model A "
                "--model B (presets, hub ids or local directories)"
                if min_models == 2
                else "give at least one --model (a preset, a hub id or a local directory)"
            )
        self.config = config
        self.specs = _unique(parse_model_arg(m) for m in config.models)
        self.cache = cache
        self._xquad = None
        if config.kind == "xquad":
            langs = dict.fromkeys((*config.query_langs, *config.doc_langs))
            both = config.query_langs and config.doc_langs  # else the rest come from the folder
            self._xquad = load_xquad(config.dataset, langs=list(langs) if both else None)
            if langs and not both:
                load_xquad(config.dataset, langs=list(langs))  # those asked for must exist
            available = self._xquad.langs
            self.query_langs = config.query_langs or _lang_order(
                available, ("th", "hi", "el", "tr", "ro", *LOW_RESOURCE)
            )
            self.doc_langs = config.doc_langs or _lang_order(available, ("en",))
        elif config.kind == "irds":
            check_name(config.dataset)
            q_lang, d_lang = languages(config.dataset)
            self.query_langs = config.query_langs[:1] or (q_lang,)
            self.doc_langs = config.doc_langs[:1] or (d_lang,)
        else:
            _check_beir(Path(config.dataset), config.split)
            self.query_langs = config.query_langs[:1] or ("und",)
            self.doc_langs = config.doc_langs[:1] or self.query_langs
        self._retrievers: dict[tuple[int, str], Any] = {}
        self._runs: dict[tuple[str, str], tuple[RetrievalTask, tuple[Run, ...]]] = {}
        self._comparisons: dict[tuple[str, str], Comparison] = {}
        self.timings: dict[str, float] = {}  # seconds per step ("prepare/me5 en", ...)

    def __repr__(self) -> str:
        return f"Workspace({self.config.label!r})"

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @property
    def default_direction(self) -> Direction:
        return Direction(self.query_langs[0], self.doc_langs[0])

    @property
    def directions(self) -> tuple[Direction, ...]:
        """Every direction of the workspace, query languages first."""
        return tuple(Direction(q, d) for q in self.query_langs for d in self.doc_langs)

    def _check_direction(self, query_lang: str, doc_lang: str) -> None:
        if query_lang not in self.query_langs:
            raise UserError(
                f"query language {query_lang!r} is not in this workspace "
                f"({', '.join(self.query_langs)})"
            )
        if doc_lang not in self.doc_langs:
            raise UserError(
                f"document language {doc_lang!r} is not in this workspace "
                f"({', '.join(self.doc_langs)})"
            )

    # -- data ----------------------------------------------------------------------------------
    def check_data(self, directions: Iterable[tuple[str, str]]) -> None:
        """Parse (and check the parallelism of) every XQuAD file these directions read, so bad
        data fails in one line before any model work; BEIR folders are checked on opening."""
        for q, d in directions:
            self._check_direction(q, d)
            if self._xquad is not None:
                self._xquad.queries(q)
                self._xquad.passages(d)

    def task(self, query_lang: str, doc_lang: str, *, stream: bool = False) -> Job[RetrievalTask]:
        """The direction's retrieval task, restricted to the subset when one is set. With
        ``stream``, a corpus read into its store now is encoded by the first dense model
        while it is read (:mod:`clirlens.core.retrieval.streaming`)."""
        self._check_direction(query_lang, doc_lang)
        cfg = self.config
        name = cfg.dataset if cfg.kind == "irds" else Path(cfg.dataset).name
        yield Progress(0, 0, f"reading {name} ({query_lang}→{doc_lang})")
        if self._xquad is not None:
            task = self._xquad.task(query_lang, doc_lang)
            if cfg.subset:
                task = restrict(task, [p for p in task.corpus if _article(p) < cfg.subset])
        else:
            feed = self._feed(doc_lang) if stream and not cfg.subset else None
            if cfg.kind == "irds":
                task = yield from load_irds_job(
                    cfg.dataset,
                    query_lang=query_lang,
                    doc_lang=doc_lang,
                    store_dir=(self.cache or Cache()).root / "corpora",
                    feed=feed,
                )
            else:
                task = yield from load_beir_job(
                    cfg.dataset,
                    cfg.split,
                    query_lang=query_lang,
                    doc_lang=doc_lang,
                    store_dir=(self.cache or Cache()).root / "corpora",
                    feed=feed,
                )
            if cfg.subset:
                task = restrict(task, task.corpus[: cfg.subset])
        if not task.queries:
            raise DataError(
                f"{task.name}: no query has a relevant passage in the "
                f"{'subset' if cfg.subset else 'corpus'}"
            )
        return task

    def corpus(self, doc_lang: str) -> Job[tuple[Passage, ...]]:
        """The passages of ``doc_lang`` (the subset when one is set), for indexing ahead
        (encoded by the first dense model while they are read, as in :meth:`runs`)."""
        if doc_lang not in self.doc_langs:
            self._check_direction(self.query_langs[0], doc_lang)
        task = yield from self.task(self.query_langs[0], doc_lang, stream=True)
        return task.corpus

    def _feed(self, doc_lang: str) -> Any:
        """The first dense model's encoding of a corpus while it is read, if there is one."""
        dense = next((i for i, s in enumerate(self.specs) if s.kind == "dense"), None)
        if dense is None:
            return None
        return self.retriever(dense, doc_lang).stream_feed()

    def retriever(self, model: int, doc_lang: str) -> Any:
        """Model ``model``'s retriever for passages in ``doc_lang`` (made once)."""
        key = (model, doc_lang)
        if key not in self._retrievers:
            from clirlens.core.retrieval.index import IndexConfig
            from clirlens.core.retrieval.retriever import make_retriever

            self._retrievers[key] = make_retriever(
                self.specs[model],
                device=self.config.device,
                dtype=self.config.dtype,
                batch_size=self.config.batch_size,
                cache=self.cache,
                index_config=IndexConfig(self.config.index),
            )
        return self._retrievers[key]

    def convention_notes(self) -> list[str]:
        """What to tell the user about the models' conventions (guesses, capped lengths; see
        :func:`~clirlens.core.models.notes.convention_notes`), for models whose files are on
        this machine (nothing is downloaded or loaded to find out)."""
        from clirlens.core.models.loading import peek

        notes = []
        for spec in self.specs:
            peeked, found = peek(spec)
            if found:
                notes += convention_notes(peeked)
        return notes

    def index_notes(self, doc_lang: str) -> list[str]:
        """One note per model searched through an approximate index of ``doc_lang``'s
        passages: its kind and recall@k against exact search (what the speed costs)."""
        notes = []
        for i, spec in enumerate(self.specs):
            retriever = self._retrievers.get((i, doc_lang))
            recall = retriever.describe().get("index_recall") if retriever is not None else None
            if recall:
                notes.append(
                    f"{spec.name}: {recall['index']}, recall@{recall['k']} "
                    f"{recall['recall']:.3f} vs exact ({recall['queries']} queries)"
                )
        return notes

    def encoder(self, model: int, doc_lang: str) -> Any:
        """The encoder behind dense ``model``'s retriever for ``doc_lang`` (shared, so the
        weights load once for retrieval, alignment and scoring); ``None`` for BM25."""
        return getattr(self.retriever(model, doc_lang), "encoder", None)

    # -- jobs ----------------------------------------------------------------------------------
    def comparison(self, query_lang: str, doc_lang: str) -> Comparison | None:
        """The direction's comparison when :meth:`prepare` has completed it."""
        return self._comparisons.get((query_lang, doc_lang))

    def prepare(
        self, query_lang: str | None = None, doc_lang: str | None = None
    ) -> Job[Comparison]:
        """Prepare every retriever on the direction's corpus, search all its queries to
        depth ``k`` and compare the runs (a generator: yields progress, returns the
        :class:`Comparison`; a completed direction is returned at once)."""
        q, d = query_lang or self.default_direction[0], doc_lang or self.default_direction[1]
        self._check_direction(q, d)
        done = self._comparisons.get((q, d))
        if done is not None:
            return done
        task, runs = yield from self.runs(q, d)
        k = min(self.config.k, len(task.corpus))
        comparison = yield from compare(task, runs, k=k, agreement_k=self.config.agreement_k)
        self._comparisons[(q, d)] = comparison
        return comparison

    def runs(self, query_lang: str, doc_lang: str) -> Job[tuple[RetrievalTask, tuple[Run, ...]]]:
        """The direction's task and every model's run to depth ``k`` (a generator: yields
        progress; a direction searched before is returned at once). What
        :meth:`prepare` compares and the evaluation pipeline evaluates."""
        self._check_direction(query_lang, doc_lang)
        key = (query_lang, doc_lang)
        if key in self._runs:
            return self._runs[key]
        task = yield from self.task(query_lang, doc_lang, stream=True)
        k = min(self.config.k, len(task.corpus))
        runs: list[Run] = []
        n = len(self.specs)
        for i, spec in enumerate(self.specs):
            step = f"[{i + 1}/{n}]" if n > 1 else ""
            yield Progress(0, 0, f"{step} {spec.name}: loading the model".strip())
            retriever = self.retriever(i, doc_lang)
            t0 = time.perf_counter()
            yield from _tagged(retriever.prepare(task.corpus), step, spec.name)
            t1 = time.perf_counter()
            run = yield from _tagged(retriever.search(task.queries, k), step, spec.name)
            self.timings[f"prepare/{spec.name}/{doc_lang}"] = t1 - t0
            self.timings[f"search/{spec.name}/{query_lang}-{doc_lang}"] = time.perf_counter() - t1
            runs.append(Run(spec.name, run.rankings))
        self._runs[key] = (task, tuple(runs))
        return self._runs[key]

    def exact_rank(
        self, model: int, query_lang: str, doc_lang: str, query_id: str, passage_id: str
    ) -> tuple[int, float] | None:
        """Model ``model``'s rank and score of a passage for a query of a prepared direction,
        over the whole corpus (also below the depth); None when it cannot tell."""
        comparison = self._comparisons.get((query_lang, doc_lang))
        if comparison is None:
            return None
        retriever = self.retriever(model, doc_lang)
        rank = getattr(retriever, "exact_rank", None)
        if rank is None:
            return None
        return run(rank(comparison.task.queries, query_id, passage_id))

    def search_text(
        self,
        text: str,
        query_lang: str,
        doc_lang: str,
        *,
        pair: Pair = (0, 1),
        shown: int = 10,
        lang: str | None = None,
    ) -> Job[QueryView]:
        """Search a free-text query, written in ``lang`` (default ``query_lang``), with every
        model on the prepared direction ``query_lang``→``doc_lang``."""
        text = " ".join(text.split())
        if not text:
            raise UserError("type a query to search for")
        lang = query_lang if not lang or not lang.strip() else lang.strip().lower()
        if not LANG_CODE.match(lang):
            raise UserError(f"invalid query language {lang!r} (expected a code such as 'hi')")
        comparison = self._comparisons.get((query_lang, doc_lang))
        if comparison is None:
            raise UserError(f"the direction {query_lang}→{doc_lang} is not prepared yet")
        query = Query(FREE_TEXT_ID, text, lang)
        files = [s.name for s in self.specs if s.kind == "run"]
        if files:
            raise UserError(
                f"{files[0]} is a run file: it ranks only its own queries, so free-text "
                "search needs a workspace of models"
            )
        runs = []
        for i, spec in enumerate(self.specs):
            run = yield from _tagged(
                self.retriever(i, doc_lang).search([query], comparison.k), "", spec.name
            )
            runs.append(Run(spec.name, run.rankings))
        return comparison.free_text_view(query, runs, pair=pair, shown=shown)


def _article(p: Passage) -> int:
    m = _PID.match(p.id)
    if m is None:
        raise DataError(f"passage id {p.id!r} is not an XQuAD paragraph id")
    return int(m.group(1))


def restrict(task: RetrievalTask, corpus: Iterable[Passage]) -> RetrievalTask:
    """``task`` on a part of its corpus: queries with no relevant passage left are dropped,
    qrels keep only the remaining passages."""
    kept = tuple(corpus)
    ids = {p.id for p in kept}
    qrels = {q: {p: g for p, g in docs.items() if p in ids} for q, docs in task.qrels.data.items()}
    queries = tuple(q for q in task.queries if any(g >= 1 for g in qrels.get(q.id, {}).values()))
    keep_q = {q.id for q in queries}
    return dataclasses.replace(
        task,
        corpus=kept,
        queries=queries,
        qrels=Qrels({q: docs for q, docs in qrels.items() if q in keep_q and docs}),
        answers={q: a for q, a in task.answers.items() if q in keep_q},
        parallel={q: p for q, p in task.parallel.items() if q in keep_q},
    )


def _check_beir(folder: Path, split: str) -> None:
    if not folder.is_dir():
        raise DataError(f"BEIR folder not found: {folder}")
    for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / name).is_file():
            raise DataError(f"{name} not found in BEIR folder {folder}")
