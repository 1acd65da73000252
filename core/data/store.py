"""An on-disk passage store: a corpus read once into SQLite, read lazily by row and by id.

A corpus of a million passages is a gigabyte of Python strings; the store keeps it on
disk, so a workspace, a view or an encoding job holds only what it is looking at.
:class:`PassageStore` is a :class:`~collections.abc.Sequence` of
:class:`~clirlens.core.types.Passage` (``store[i]``, ``store[a:b]`` — one range query —
and iteration in blocks), with :attr:`PassageStore.by_id`, a read-only mapping from passage
id to passage, and :meth:`PassageStore.ids`.

Why SQLite: the views need random access by id (a passage shown, judged, highlighted) as well
as sequential blocks (encoding); SQLite gives both from the standard library, with an index
on ``id``, and answers a point lookup in microseconds (benchmarks/bench_corpus.py measures
building and reading it). Columnar files (Parquet) read blocks fast but look ids up by
scanning.

:func:`build_store` writes a store from passages in corpus order into a temporary file that
is renamed into place when complete, so a store on disk is always whole; a kill while
building leaves only the temporary file, rebuilt on the next opening. The store records
:attr:`~PassageStore.fingerprint`, the hash :func:`corpus_fingerprint` gives the same
passages held in memory (computed while writing), so embedding caches are shared between a
stored corpus and an in-memory one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, overload

from clirlens.core.errors import DataError
from clirlens.core.progress import Job, mapped
from clirlens.core.types import Passage, Progress

BLOCK = 8192  # rows per range query when iterating
SCHEMA_VERSION = 2  # 2: the ids column also kept as one JSON list (ids)


def corpus_fingerprint(corpus: Sequence[Passage]) -> str:
    """A corpus' content hash: ``fingerprint([(id, lang, title, text), ...])`` of
    :func:`clirlens.core.hashing.fingerprint`, which a store records when it is built."""
    stored = getattr(corpus, "fingerprint", None)
    if isinstance(stored, str):
        return stored
    digest = _Digest()
    for p in corpus:
        digest.add(p)
    return digest.hexdigest()


class _Digest:
    """:func:`clirlens.core.hashing.fingerprint` of ``[(id, lang, title, text), ...]`` computed
    one passage at a time: ``json.dumps(([...],))`` written piecewise."""

    # json.dumps(..., ensure_ascii=False) makes this encoder on every call (a third of the
    # digest's time); one shared, it writes the same text
    _json = json.JSONEncoder(ensure_ascii=False)

    def __init__(self) -> None:
        self._h = hashlib.sha256(b"[[")
        self._first = True

    def add(self, p: Passage) -> None:
        item = self._json.encode([p.id, p.lang, p.title, p.text])
        self._h.update((item if self._first else ", " + item).encode())
        self._first = False

    def hexdigest(self) -> str:
        h = self._h.copy()
        h.update(b"]]")
        return h.hexdigest()[:32]


class StoreFeed(Protocol):
    """Work done on a corpus while it is read into a store (the first model's encoding,
    :class:`~clirlens.core.retrieval.streaming.StreamEncoder`): told every block of
    passages as it is written, then the store's fingerprint and size. Both are jobs; their
    progress is shown against the reading's. ``expected`` is how many passages the
    reading's progress so far suggests the corpus holds (``None``: it cannot tell);
    ``source`` names what is read (a file, a dataset) the same way from one version of it
    to the next, so work kept from an interrupted reading can be found again."""

    def begin(self, source: str) -> None: ...

    def add(self, passages: Sequence[Passage], expected: int | None) -> Job[None]: ...

    def end(self, fingerprint: str, n: int) -> Job[None]: ...


def build_store(
    path: Path,
    items: Iterable[Passage | Progress],
    lang: str,
    feed: StoreFeed | None = None,
    source: str = "",
) -> Job[PassageStore]:
    """Write the passages of ``items`` (in order; all in ``lang``) to a store at ``path`` and
    open it (a generator: the :class:`Progress` among ``items`` is passed on). ``feed`` is
    told ``source`` (default: the store's file name), then every block written and, once
    the ids are checked, the fingerprint.

    A passage id seen twice raises :class:`DataError` (the caller's reader names the line
    first when it can). The file appears only when complete; a cancel or an error removes
    the temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    _remove_abandoned(path)
    digest = _Digest()
    if feed is not None:
        feed.begin(source or path.name)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE passages (id TEXT NOT NULL, title TEXT, text TEXT NOT NULL);"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        )
        n = 0
        block: list[Passage] = []
        last: Progress | None = None
        for p in items:
            if isinstance(p, Progress):
                last = p
                yield p
                continue
            if p.lang != lang:
                raise DataError(f"passage {p.id!r} is in {p.lang!r}, the store holds {lang!r}")
            digest.add(p)
            block.append(p)
            if len(block) >= BLOCK:
                n += _insert(con, block)
                if feed is not None:
                    yield from _against(feed.add(block, _expected(n, last)), last)
                block = []
        n += _insert(con, block)
        if feed is not None and block:
            yield from _against(feed.add(block, n), last)
        try:
            con.execute("CREATE UNIQUE INDEX passage_id ON passages (id)")
        except sqlite3.IntegrityError:
            dup = con.execute(
                "SELECT id FROM passages GROUP BY id HAVING COUNT(*) > 1 LIMIT 1"
            ).fetchone()
            raise DataError(f"passage id {dup[0]!r} appears twice in the corpus") from None
        if feed is not None:
            yield from _against(feed.end(digest.hexdigest(), n), last)
        # every id in row order as one value: a reopened workspace maps its rankings' rows to
        # ids from it, far faster than reading the column row by row
        ids = [pid for (pid,) in con.execute("SELECT id FROM passages ORDER BY rowid")]
        con.execute("CREATE TABLE ids (value TEXT NOT NULL)")
        con.execute("INSERT INTO ids VALUES (?)", (json.dumps(ids, ensure_ascii=False),))
        del ids
        meta = {"n": n, "lang": lang, "fingerprint": digest.hexdigest(), "v": SCHEMA_VERSION}
        con.executemany("INSERT INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
        con.commit()
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, path)
    return PassageStore(path)


def _remove_abandoned(path: Path) -> None:
    """Temporary files of ``path`` left by processes that are gone (killed while building).
    POSIX only: there ``kill(pid, 0)`` asks whether a process exists; on Windows it would
    send a Ctrl-C."""
    if os.name != "posix":
        return
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 : -len(".tmp")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                tmp.unlink()
        except OSError:  # another user's process, still running
            continue


def _insert(con: sqlite3.Connection, block: Sequence[Passage]) -> int:
    con.executemany(
        "INSERT INTO passages VALUES (?, ?, ?)", [(p.id, p.title, p.text) for p in block]
    )
    return len(block)


def _expected(n: int, reading: Progress | None) -> int | None:
    """The corpus' size extrapolated from ``n`` passages read and the reading's progress."""
    if reading is None or reading.total <= 0 or reading.done <= 0:
        return None
    return round(n / min(1.0, reading.done / reading.total))


def _against(job: Job[None], reading: Progress | None) -> Job[None]:
    """``job``'s progress messages on the reading's bar (how much of the input is read)."""
    if reading is None:
        return (yield from job)
    return (
        yield from mapped(
            job, lambda p: Progress(reading.done, reading.total, p.message, unit=reading.unit)
        )
    )


def open_store(path: Path) -> PassageStore | None:
    """The store at ``path`` when it is complete and readable, else ``None`` (to rebuild)."""
    if not path.is_file():
        return None
    try:
        return PassageStore(path)
    except (sqlite3.Error, KeyError, ValueError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None


class PassageStore(Sequence[Passage]):
    """A stored corpus (module notes). Safe to share between threads (one read-only
    connection per thread) and to pickle (it reopens from its path)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        meta = dict(self._con().execute("SELECT key, value FROM meta").fetchall())
        if int(meta["v"]) != SCHEMA_VERSION:
            raise ValueError("store schema")
        self._n = int(meta["n"])
        self.lang = meta["lang"]
        self.fingerprint = meta["fingerprint"]
        self._ids: list[str] | None = None
        self.by_id: Mapping[str, Passage] = _ById(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (PassageStore, (self.path,))

    def __repr__(self) -> str:
        return f"PassageStore({str(self.path)!r}, n={self._n})"

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def __len__(self) -> int:
        return self._n

    def _rows(self, start: int, stop: int) -> list[Passage]:
        """Passages of rows ``start`` ≤ i < ``stop`` (0-based)."""
        cur = self._con().execute(
            "SELECT id, title, text FROM passages WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
            (start, stop),
        )
        lang = self.lang
        return [Passage(pid, text, lang, title) for pid, title, text in cur]

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Passage, ...]: ...
    def __getitem__(self, i: int | slice) -> Passage | tuple[Passage, ...]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            if step != 1:
                return tuple(self[j] for j in range(start, stop, step))
            return tuple(self._rows(start, stop)) if stop > start else ()
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return self._rows(i, i + 1)[0]

    def __iter__(self) -> Iterator[Passage]:
        for start in range(0, self._n, BLOCK):
            yield from self._rows(start, min(start + BLOCK, self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PassageStore):
            return self.fingerprint == other.fingerprint
        if isinstance(other, Sequence):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:  # a task holding a store stays hashable, like one of a tuple
        return hash(self.fingerprint)

    def ids(self) -> list[str]:
        """Every passage id in row order (read once; ids only, no texts)."""
        if self._ids is None:
            (value,) = self._con().execute("SELECT value FROM ids").fetchone()
            self._ids = json.loads(value)
        return self._ids

    def get(self, passage_id: str) -> Passage | None:
        row = (
            self._con()
            .execute("SELECT id, title, text FROM passages WHERE id = ?", (passage_id,))
            .fetchone()
        )
        return None if row is None else Passage(row[0], row[2], self.lang, row[1])

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


class _ById(Mapping[str, Passage]):
    """A store's passages by id, looked up in SQLite one at a time."""

    def __init__(self, store: PassageStore) -> None:
        self._store = store

    def __getitem__(self, passage_id: str) -> Passage:
        p = self._store.get(passage_id)
        if p is None:
            raise KeyError(passage_id)
        return p

    def __contains__(self, passage_id: object) -> bool:
        return isinstance(passage_id, str) and self._store.get(passage_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.ids())

    def __len__(self) -> int:
        return len(self._store)


def passage_map(corpus: Sequence[Passage]) -> Mapping[str, Passage]:
    """Passages by id: a store's lazy mapping, or a dict of an in-memory corpus."""
    by_id = getattr(corpus, "by_id", None)
    return by_id if by_id is not None else {p.id: p for p in corpus}


def passage_ids(corpus: Sequence[Passage]) -> list[str]:
    """Passage ids in corpus order (a store reads only its id column)."""
    ids = getattr(corpus, "ids", None)
    return ids() if callable(ids) else [p.id for p in corpus]
