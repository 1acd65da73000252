"""BEIR-style folders (Thakur et al. 2021): Mr.TyDi, MIRACL, WebFAQ test sets, ...

Layout::

    corpus.jsonl     {"_id": ..., "title": ..., "text": ...}   one passage per line
    queries.jsonl    {"_id": ..., "text": ...}                 one query per line
    qrels/{split}.tsv  query-id <TAB> corpus-id <TAB> score     with a header line

Ids may be JSON strings or integers (kept as strings). An empty title becomes ``None``. The
task's queries are those judged in the split's qrels, in queries.jsonl order (queries.jsonl
usually holds every split's queries). Every bad line raises a one-line
:class:`~clirlens.core.errors.DataError` naming the file and line number; so do qrels that
name a query or passage the other files lack (``strict=False`` drops those judgments
instead, as BEIR's own evaluation silently does).

Reading is a generator yielding :class:`Progress` by bytes read (:func:`load_beir_job`);
:func:`load_beir` drives it to completion.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from clirlens.core.data.store import (
    PassageStore,
    StoreFeed,
    build_store,
    open_store,
    passage_map,
)
from clirlens.core.errors import DataError
from clirlens.core.hashing import fingerprint
from clirlens.core.jsonio import parse_json
from clirlens.core.progress import Job, Throttle, run
from clirlens.core.types import Passage, Progress, Qrels, Query, RetrievalTask

_ID_TYPES = (str, int)
log = logging.getLogger(__name__)


class _Bytes:
    """Running count of bytes read across files, with a throttled progress check."""

    def __init__(self, total: int) -> None:
        self.done = 0
        self.total = total
        self.tick = Throttle(0.25)

    def progress(self, message: str) -> Progress | None:
        return Progress(self.done, self.total, message, unit="bytes") if self.tick() else None


def _read_lines(path: Path, counter: _Bytes) -> Iterator[tuple[int, str]]:
    """(line number, decoded line) of a UTF-8 file, counting bytes into ``counter``."""
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            counter.done += len(raw)
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{lineno}: not UTF-8 ({e.reason})") from None
            yield lineno, line


def _json_records(path: Path, counter: _Bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """("file:line", object) for every non-blank line of a JSON-lines file."""
    for lineno, line in _read_lines(path, counter):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        obj = parse_json(line, where)
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        yield where, obj


def _field(
    obj: dict[str, Any], key: str, where: str, types: tuple[type, ...], required: bool = True
) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise DataError(f"{where}: missing field {key!r}")
        return None
    value = obj[key]
    if not isinstance(value, types) or isinstance(value, bool):
        raise DataError(
            f"{where}: field {key!r} is a {type(value).__name__}, "
            f"expected {' or '.join(t.__name__ for t in types)}"
        )
    return value


def _corpus_records(path: Path, lang: str, counter: _Bytes) -> Iterator[Passage | Progress]:
    """The passages of corpus.jsonl in file order, with progress records among them."""
    seen: set[str] = set()  # ids only: a duplicate is named with its line
    for where, obj in _json_records(path, counter):
        pid = str(_field(obj, "_id", where, _ID_TYPES))
        if pid in seen:
            raise DataError(f"{where}: passage id {pid!r} appears twice")
        seen.add(pid)
        title = _field(obj, "title", where, (str,), required=False) or None
        yield Passage(pid, _field(obj, "text", where, (str,)), lang, title)
        if (p := counter.progress("reading corpus")) is not None:
            yield p


def _read_corpus(path: Path, lang: str, counter: _Bytes) -> Job[dict[str, Passage]]:
    corpus: dict[str, Passage] = {}
    for item in _corpus_records(path, lang, counter):
        if isinstance(item, Progress):
            yield item
        else:
            corpus[item.id] = item
    return corpus


def _stored_corpus(
    path: Path, lang: str, counter: _Bytes, store_dir: Path, feed: StoreFeed | None = None
) -> Job[PassageStore]:
    """corpus.jsonl as a :class:`PassageStore` in ``store_dir``, read once per version of
    the file (its path, size and modification time name the store); ``feed`` works on the
    passages while they are read (:func:`~clirlens.core.data.store.build_store`)."""
    st = path.stat()
    key = fingerprint(str(path.resolve()), st.st_size, st.st_mtime_ns, lang)
    target = store_dir / f"beir-{key}.sqlite"
    store = open_store(target)
    if store is not None:
        counter.done += st.st_size
        yield Progress(counter.done, counter.total, "corpus store opened", unit="bytes")
        return store
    records = _corpus_records(path, lang, counter)
    source = f"beir:{path.resolve()}:{lang}"
    return (yield from build_store(target, records, lang, feed=feed, source=source))


def _read_queries(path: Path, lang: str, counter: _Bytes) -> Job[dict[str, Query]]:
    queries: dict[str, Query] = {}
    for where, obj in _json_records(path, counter):
        qid = str(_field(obj, "_id", where, _ID_TYPES))
        if qid in queries:
            raise DataError(f"{where}: query id {qid!r} appears twice")
        queries[qid] = Query(qid, _field(obj, "text", where, (str,)), lang)
        if (p := counter.progress("reading queries")) is not None:
            yield p
    return queries


def read_beir_qrels(path: Path, counter: _Bytes | None = None) -> Qrels:
    """Read a BEIR qrels TSV (``query-id corpus-id score``; the header line is optional)."""
    counter = counter or _Bytes(0)
    data: dict[str, dict[str, int]] = {}
    for lineno, line in _read_lines(path, counter):
        fields = line.rstrip("\r\n").split("\t")
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        if len(fields) != 3:
            raise DataError(
                f"{where}: expected 3 tab-separated columns "
                f"'query-id corpus-id score', got {len(fields)}"
            )
        qid, pid, score = (x.strip() for x in fields)
        try:
            grade = int(score)
        except ValueError:
            if lineno == 1:  # header
                continue
            raise DataError(f"{where}: score {score!r} is not an integer") from None
        docs = data.setdefault(qid, {})
        if pid in docs:
            raise DataError(f"{where}: passage {pid!r} judged twice for query {qid!r}")
        docs[pid] = grade
    return Qrels(data)


def load_beir_job(
    folder: str | os.PathLike[str],
    split: str = "test",
    *,
    query_lang: str = "und",
    doc_lang: str | None = None,
    name: str | None = None,
    strict: bool = True,
    store_dir: Path | None = None,
    feed: StoreFeed | None = None,
) -> Job[RetrievalTask]:
    """Read a BEIR folder into a :class:`RetrievalTask` (a generator yielding progress).

    ``doc_lang`` defaults to ``query_lang``; ``name`` to ``"beir/{folder name}/{split}"``.
    With ``store_dir`` the corpus is read once into a :class:`PassageStore` there and the
    task's corpus is that store (nothing of it held in memory), and ``feed`` is given the
    passages as they are written (when the store is built now); a folder that cannot be
    written falls back to reading the corpus into memory, with one warning.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"BEIR folder not found: {path}")
    corpus_f, queries_f = path / "corpus.jsonl", path / "queries.jsonl"
    qrels_f = path / "qrels" / f"{split}.tsv"
    for f in (corpus_f, queries_f):
        if not f.is_file():
            raise DataError(f"{f.name} not found in BEIR folder {path}")
    if not qrels_f.is_file():
        splits = sorted(p.stem for p in (path / "qrels").glob("*.tsv"))
        raise DataError(
            f"qrels for split {split!r} not found: {qrels_f} "
            f"(available splits: {', '.join(splits) or 'none'})"
        )
    doc_lang = doc_lang or query_lang
    counter = _Bytes(sum(f.stat().st_size for f in (corpus_f, queries_f, qrels_f)))
    yield Progress(0, counter.total, "reading qrels", unit="bytes")
    qrels = read_beir_qrels(qrels_f, counter)
    if not qrels.data:
        raise DataError(f"{qrels_f}: no judgments")
    queries = yield from _read_queries(queries_f, query_lang, counter)
    corpus: Sequence[Passage] | None = None
    if store_dir is not None:
        start = counter.done
        try:
            corpus = yield from _stored_corpus(corpus_f, doc_lang, counter, Path(store_dir), feed)
        except (OSError, sqlite3.Error) as exc:
            log.warning(
                "cannot keep a passage store in %s (%s): reading the corpus into memory",
                store_dir,
                getattr(exc, "strerror", None) or exc,
            )
            counter.done = start
    if corpus is None:
        corpus = tuple((yield from _read_corpus(corpus_f, doc_lang, counter)).values())
    qrels = _check_references(qrels, queries, passage_map(corpus), qrels_f, strict)
    judged = [q for q in queries.values() if q.id in qrels.data]
    yield Progress(counter.total, counter.total, "read", unit="bytes")
    return RetrievalTask(
        name or f"beir/{path.name}/{split}", query_lang, doc_lang, tuple(judged), corpus, qrels
    )


def _check_references(
    qrels: Qrels,
    queries: dict[str, Query],
    corpus: Mapping[str, Passage],
    qrels_f: Path,
    strict: bool,
) -> Qrels:
    """Qrels restricted to known queries and passages; with ``strict``, unknown ones fail."""
    bad_q = [q for q in qrels.data if q not in queries]
    bad_p = [(q, p) for q, docs in qrels.data.items() for p in docs if p not in corpus]
    if strict and bad_q:
        raise DataError(
            f"{qrels_f}: {len(bad_q)} judged queries are not in queries.jsonl, e.g. {bad_q[0]!r}"
        )
    if strict and bad_p:
        raise DataError(
            f"{qrels_f}: {len(bad_p)} judged passages are not in corpus.jsonl, "
            f"e.g. {bad_p[0][1]!r} (query {bad_p[0][0]!r})"
        )
    if not bad_q and not bad_p:
        return qrels
    kept = {
        q: {p: g for p, g in docs.items() if p in corpus}
        for q, docs in qrels.data.items()
        if q in queries
    }
    return Qrels({q: docs for q, docs in kept.items() if docs})


def load_beir(
    folder: str | os.PathLike[str],
    split: str = "test",
    *,
    query_lang: str = "und",
    doc_lang: str | None = None,
    name: str | None = None,
    strict: bool = True,
) -> RetrievalTask:
    """:func:`load_beir_job` driven to completion (no progress reporting)."""
    return run(
        load_beir_job(
            folder, split, query_lang=query_lang, doc_lang=doc_lang, name=name, strict=strict
        )
    )
