"""Collections by name through ``ir_datasets``: ``mr-tydi/th/test``, ``miracl/hi/dev`` and
every other id it registers (MacAvaney et al. 2021).

ir_datasets downloads, verifies and caches a collection the first time its documents are
read (in ``$IR_DATASETS_HOME``, by default ``~/.ir_datasets``) — the real download path; a
machine without internet reads what is already there. The documents, queries and qrels
become one :class:`~clirlens.core.types.RetrievalTask`, as a BEIR folder does; languages
come from the dataset (``docs_lang()``/``queries_lang()``). A download or format failure is
one line naming the dataset and the way out.

:data:`PUBLISHED` names the measures the published tables use for a family, so that
``clirlens eval`` on them prints figures comparable with pyserini's reproductions and the
WebFAQ paper's (README, "Collections by name").
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from clirlens.core.data.store import StoreFeed, build_store, open_store, passage_map
from clirlens.core.errors import DataError, UserError
from clirlens.core.hashing import fingerprint
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Passage, Progress, Qrels, Query, RetrievalTask

log = logging.getLogger(__name__)

# family prefix -> (measures, where the published figures are)
PUBLISHED: dict[str, tuple[tuple[str, ...], str]] = {
    "mr-tydi/": (("RR@100", "R@100"), "pyserini's Mr.TyDi reproductions report MRR@100, R@100"),
    "miracl/": (("nDCG@10", "R@100"), "MIRACL's and pyserini's tables report nDCG@10, R@100"),
}


def _irds():
    try:
        import ir_datasets
    except ImportError:
        raise UserError(
            "collections by name need ir_datasets: pip install ir_datasets "
            "(or use --xquad DIR / --beir DIR)"
        ) from None
    return ir_datasets


def check_name(name: str) -> None:
    """Fail with one line when ``name`` is not a dataset ir_datasets knows (nothing is read)."""
    ir = _irds()
    if name not in ir.registry:
        family = name.split("/")[0]
        near = sorted(k for k in ir.registry if k.startswith(family + "/"))[:4]
        hint = f"; e.g. {', '.join(near)}" if near else "; e.g. mr-tydi/th/test, miracl/hi/dev"
        raise UserError(f"ir_datasets has no dataset {name!r}{hint}")
    ds = ir.load(name)
    missing = [what for what in ("docs", "queries", "qrels") if not getattr(ds, f"has_{what}")()]
    if missing:
        raise UserError(f"{name} has no {' and no '.join(missing)}: choose a split with qrels")


def languages(name: str) -> tuple[str, str]:
    """(query language, document language) the dataset declares, ``und`` when it does not."""
    ds = _irds().load(name)
    return (ds.queries_lang() or "und"), (ds.docs_lang() or "und")


def published_measures(name: str) -> tuple[tuple[str, ...], str] | None:
    return next((v for k, v in PUBLISHED.items() if name.startswith(k)), None)


def load_irds_job(
    name: str,
    *,
    query_lang: str | None = None,
    doc_lang: str | None = None,
    store_dir: Path | None = None,
    feed: StoreFeed | None = None,
) -> Job[RetrievalTask]:
    """Read ``name`` into a task (a generator yielding progress; downloads on first use).
    With ``store_dir`` the passages go once into a
    :class:`~clirlens.core.data.store.PassageStore` there (named by the collection, its
    language and ir_datasets' version) and the task's corpus is that store; ``feed`` is
    given the passages as they are written."""
    check_name(name)
    ds = _irds().load(name)
    q_lang, d_lang = languages(name)
    q_lang, d_lang = query_lang or q_lang, doc_lang or d_lang
    throttle = Throttle(0.25)
    total = ds.docs_count() or 0
    try:
        yield Progress(0, 0, f"{name}: qrels and queries (downloaded on first use)")
        qrels: dict[str, dict[str, int]] = {}
        for qrel in ds.qrels_iter():
            qrels.setdefault(qrel.query_id, {})[qrel.doc_id] = int(qrel.relevance)
        queries = {q.query_id: Query(q.query_id, q.text, q_lang) for q in ds.queries_iter()}

        def passages() -> Iterator[Passage | Progress]:
            for n, doc in enumerate(ds.docs_iter(), start=1):
                yield Passage(doc.doc_id, doc.text, d_lang, getattr(doc, "title", None) or None)
                if throttle():
                    yield Progress(n, total, f"{name}: reading passages")

        corpus: Sequence[Passage] | None = None
        if store_dir is not None:
            version = getattr(_irds(), "__version__", "")
            target = Path(store_dir) / f"irds-{fingerprint(name, d_lang, version)}.sqlite"
            corpus = open_store(target)
            if corpus is None:
                try:
                    corpus = yield from build_store(
                        target, passages(), d_lang, feed=feed, source=f"irds:{name}:{d_lang}"
                    )
                except (OSError, sqlite3.Error) as exc:
                    log.warning(
                        "cannot keep a passage store in %s (%s): reading the corpus into memory",
                        store_dir,
                        getattr(exc, "strerror", None) or exc,
                    )
        if corpus is None:
            kept_passages = []
            for item in passages():
                if isinstance(item, Progress):
                    yield item
                else:
                    kept_passages.append(item)
            corpus = tuple(kept_passages)
    except (OSError, ValueError, KeyError, RuntimeError, EOFError) as exc:
        raise DataError(
            f"{name}: ir_datasets could not read it ({type(exc).__name__}); check the "
            "connection for a first download, or $IR_DATASETS_HOME for a local copy"
        ) from None
    known = passage_map(corpus)
    kept = {
        q: {p: g for p, g in docs.items() if p in known}
        for q, docs in qrels.items()
        if q in queries
    }
    kept = {q: docs for q, docs in kept.items() if docs}  # as a BEIR folder's qrels
    if not kept:
        raise DataError(f"{name}: no judged query is in its collection")
    yield Progress(len(corpus), len(corpus), f"{name}: read")
    return RetrievalTask(
        name,
        q_lang,
        d_lang,
        tuple(queries[q] for q in queries if q in kept),
        corpus,
        Qrels(kept),
    )
