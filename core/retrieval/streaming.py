"""Encoding a corpus while it is read: the first model's passage embeddings, shard by shard,
as the passage store is written (:class:`~clirlens.core.data.store.StoreFeed`).

Without it, nothing is encoded until the whole corpus is in the store; with it, the first
shard is encoded as soon as its passages are read, so the wait for the first embeddings does
not grow with the corpus. Reading and encoding take turns in one thread, so neither is held
in memory beyond a shard.

The embeddings' cache key holds the corpus' fingerprint and size, known only when the last
passage is read; until then the shards are kept under the *source* (the file or dataset the
store is read from, named the same from one version to the next) in
``<cache>/embeddings/.stream-<key>/``: one ``.npy`` file per shard and ``manifest.json``,
which records per shard the SHA-256 of the texts it encoded and of its rows. After a kill or
a Cancel the next reading encodes only the shards whose texts it has not seen (a shard
counts when its texts and its rows still match what was recorded), so an interrupted
first run resumes at its last complete shard like :mod:`~clirlens.core.retrieval.shards`.
When the store is complete the shards become the ordinary cache entry, made through
:class:`~clirlens.core.retrieval.shards.PartialEntry` under the key
:func:`~clirlens.core.retrieval.shards.passage_meta` gives: the embeddings of a corpus
encoded while it was read are the file an encoding after the reading makes, bit for bit
(the same shards, texts and batches; tests/core/retrieval/test_streaming.py).

Encoding while reading is an optimisation: if it fails (a model that does not load, a
cache that cannot be written) it stops with one log line and the store is still built;
the encoding after the reading then does the work, and reports the error, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from clirlens.core.hashing import fingerprint
from clirlens.core.memory import bound_heap, trim_heap
from clirlens.core.progress import Job, mapped
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.shards import (
    LARGE,
    SHARD,
    PartialEntry,
    cached,
    passage_meta,
    rows_digest,
)
from clirlens.core.types import Passage, Progress

log = logging.getLogger(__name__)
WHILE = "while reading the corpus"


def _texts_digest(texts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode()).hexdigest()


class StreamEncoder:
    """A :class:`~clirlens.core.data.store.StoreFeed` encoding the passages with ``encoder``
    (a passage encoder) into ``cache`` (module notes)."""

    def __init__(self, encoder, cache: Cache, shard: int = SHARD) -> None:
        self.encoder = encoder
        self.cache = cache
        self.shard = shard
        self.dir: Path | None = None
        self._buffer: list[Passage] = []
        self._next = 0  # index of the next shard
        self._recorded: dict[int, dict[str, str]] = {}
        self._done: dict[int, dict[str, str]] = {}
        self._model = ""
        self.encoded = 0  # shards encoded by this reading (the rest were kept from before)
        self.stopped: str | None = None  # why encoding while reading stopped, if it did
        self.key: str | None = None  # the cache entry made when the reading completed

    # -- StoreFeed -------------------------------------------------------------------------------
    def begin(self, source: str) -> None:
        if not self.cache.writable:
            self.stopped = "the cache cannot be written"
            return
        try:
            self._model = self.encoder.fingerprint()
            key = fingerprint({"model": self._model, "source": source, "shard": self.shard})
            self.dir = self.cache.root / "embeddings" / f".stream-{key}"
            self._recorded = self._read_manifest()
        except Exception as exc:  # an optimisation: the encoding after reading reports it
            self._stop(exc)

    def add(self, passages: Sequence[Passage], expected: int | None = None) -> Job[None]:
        if self.stopped is not None:
            return
        if expected is not None and expected > LARGE * self.shard:
            # memory over speed, decided as for a corpus encoded after reading, from the
            # first shard on: batches encoded before would leave their fragments in the heap
            bound_heap()
        self._buffer.extend(passages)
        while len(self._buffer) >= self.shard and self.stopped is None:
            chunk, self._buffer = self._buffer[: self.shard], self._buffer[self.shard :]
            yield from self._guarded(self._encode(chunk))

    def end(self, corpus_fingerprint: str, n: int) -> Job[None]:
        if self.stopped is None and self._buffer:
            chunk, self._buffer = self._buffer, []
            yield from self._guarded(self._encode(chunk))
        if self.stopped is not None:
            return
        try:
            self._finish(corpus_fingerprint, n)
        except Exception as exc:
            self._stop(exc)

    # -- work ------------------------------------------------------------------------------------
    def _guarded(self, job: Job[None]) -> Job[None]:
        try:
            yield from job
        except Exception as exc:  # not GeneratorExit: a cancel goes through
            self._stop(exc)

    def _stop(self, exc: BaseException) -> None:
        self.stopped = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.info("not encoding while reading the corpus (%s): encoding after it", self.stopped)

    def _shard_file(self, index: int) -> Path:
        assert self.dir is not None
        return self.dir / f"shard-{index:06d}.npy"

    def _encode(self, chunk: Sequence[Passage]) -> Job[None]:
        index = self._next
        self._next += 1
        texts = [self.encoder.passage_text(p) for p in chunk]
        texts_hash = _texts_digest(texts)
        kept = self._recorded.get(index)
        if kept is not None and kept["texts"] == texts_hash and self._intact(index, kept):
            self._done[index] = kept
            return
        if index >= LARGE:  # the size could not be told beforehand: it can now
            bound_heap()
        trim_heap()
        if not getattr(self.encoder, "is_loaded", True):  # seconds with nothing else to show
            yield Progress(0, 0, f"{self.encoder.name}: loading the model to encode {WHILE}")
        # from the shard's first batch on, under one message for every shard: shown on the
        # reading's bar, whose rate across shards gives the time left
        rows = yield from mapped(
            self.encoder.encode(texts, "passage"),
            lambda p: Progress(p.done, p.total, f"{p.message} {WHILE}") if p.done else None,
        )
        del texts
        assert self.dir is not None
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self._shard_file(index)
        tmp = target.with_suffix(".tmp.npy")
        np.save(tmp, rows, allow_pickle=False)
        os.replace(tmp, target)
        self._done[index] = {"texts": texts_hash, "rows": rows_digest(rows)}
        self.encoded += 1
        self._write_manifest()

    def _intact(self, index: int, record: dict[str, str]) -> bool:
        try:
            return (
                rows_digest(np.load(self._shard_file(index), allow_pickle=False)) == record["rows"]
            )
        except (OSError, ValueError):
            return False

    def _finish(self, corpus_fingerprint: str, n: int) -> None:
        """The shards as the corpus' embedding cache entry (module notes)."""
        meta = passage_meta(self._model, corpus_fingerprint, n, self.shard)
        key = fingerprint(meta)
        if cached(self.cache, key, meta, n) is None:
            partial = PartialEntry(self.cache, key, meta, n, self.shard)
            if len(partial.ranges) != len(self._done):
                raise RuntimeError(f"{len(self._done)} shards for {len(partial.ranges)}")
            for i in partial.missing():
                partial.write(i, np.load(self._shard_file(i), allow_pickle=False))
            partial.finish()
        self.key = key
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- manifest --------------------------------------------------------------------------------
    def _read_manifest(self) -> dict[int, dict[str, str]]:
        assert self.dir is not None
        try:
            manifest = json.loads((self.dir / "manifest.json").read_text())
            if manifest.get("model") != self._model or manifest.get("shard") != self.shard:
                return {}
            return {int(i): dict(r) for i, r in manifest["done"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _write_manifest(self) -> None:
        assert self.dir is not None
        record = {
            "model": self._model,
            "shard": self.shard,
            "done": {str(i): r for i, r in sorted({**self._recorded, **self._done}.items())},
        }
        tmp = self.dir / "manifest.json.tmp"
        with tmp.open("w") as fh:
            json.dump(record, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.dir / "manifest.json")
