"""Passage embeddings encoded shard by shard into one memory-mapped file, resumable.

A corpus is cut into shards of :data:`SHARD` passages in corpus order. Each shard's texts
are read (from a :class:`~clirlens.core.data.store.PassageStore`, one range query),
tokenised and encoded on their own — the tokenizer never sees the whole corpus — and written
into their rows of ``array.npy``, a ``.npy`` file allocated for the whole corpus and
memory-mapped, so no job holds all embeddings in memory either.

Work in progress lives in ``<cache>/embeddings/.partial-<key>/``: ``array.npy`` and
``manifest.json``, which records the entry's fingerprints, the shard size, the width and,
per completed shard, the SHA-256 of its rows. A shard enters the manifest only after its
rows are flushed to disk, and the manifest is replaced atomically, so after a kill (or a
Cancel at any point) the next run re-checks the recorded shards and resumes at the first
one missing. When every shard is done the file becomes an ordinary cache entry
(:class:`~clirlens.core.retrieval.cache.Cache`: checksummed, renamed into place), which
later runs memory-map directly.

Any encoder of shards can fill the same partial entry — the local loop of
:func:`encode_corpus`, or Ray actors (:mod:`clirlens.core.retrieval.ray_encode`) — through
:class:`PartialEntry`; shards are written by index, so a shard encoded twice (a retried
task) is written twice to the same rows, never duplicated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.memory import bound_heap, trim_heap
from clirlens.core.progress import Job, mapped
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.index import release
from clirlens.core.types import Passage, Progress

log = logging.getLogger(__name__)

SHARD = 8192  # passages per shard: a few seconds of work for a small model
LARGE = 4  # shards to encode above which the heap is bounded (clirlens.core.memory)


def shard_ranges(n: int, size: int = SHARD) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the shards of ``n`` passages."""
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def passage_meta(model_fp: str, corpus_fp: str, n: int, shard: int = SHARD) -> dict[str, Any]:
    """What keys a corpus' passage embeddings: the encoder, the texts and the shard size
    (shards are encoded apart, so their size is part of how the numbers were made)."""
    return {"model": model_fp, "corpus": corpus_fp, "role": "passage", "n": n, "shard": shard}


def rows_digest(rows: np.ndarray) -> str:
    """SHA-256 of embedding rows (what a shard's manifest records)."""
    return hashlib.sha256(np.ascontiguousarray(rows).tobytes()).hexdigest()


class PartialEntry:
    """An embedding cache entry being filled shard by shard (module notes)."""

    def __init__(self, cache: Cache, key: str, meta: dict, n: int, shard: int = SHARD) -> None:
        self.cache = cache
        self.key = key
        self.meta = meta
        self.n = n
        self.shard = shard
        self.dir = cache.root / "embeddings" / f".partial-{key}"
        self.done: dict[int, str] = {}
        self.width: int | None = None
        self._array: np.memmap | None = None
        self._resume()

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return shard_ranges(self.n, self.shard)

    def missing(self) -> list[int]:
        return [i for i in range(len(self.ranges)) if i not in self.done]

    def _manifest(self) -> dict:
        return {
            "meta": self.meta,
            "n": self.n,
            "shard": self.shard,
            "width": self.width,
            "done": {str(i): h for i, h in sorted(self.done.items())},
        }

    def _resume(self) -> None:
        try:
            manifest = json.loads((self.dir / "manifest.json").read_text())
            same = {k: manifest.get(k) for k in ("meta", "n", "shard")} == {
                "meta": self.meta,
                "n": self.n,
                "shard": self.shard,
            }
            if not same:
                raise ValueError("another entry")
            self.width = int(manifest["width"])
            self._array = np.lib.format.open_memmap(self.dir / "array.npy", mode="r+")
            if self._array.shape != (self.n, self.width):
                raise ValueError("array shape")
            recorded = {int(i): h for i, h in manifest["done"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            self._array = None
            self.width = None
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        for i, h in recorded.items():  # a shard counts only if its rows still match
            a, b = self.ranges[i]
            if rows_digest(self._array[a:b]) == h:
                self.done[i] = h
            release(self._array)
        if len(self.done) < len(recorded):
            log.warning(
                "%d encoded shards in %s were damaged; encoding them again",
                len(recorded) - len(self.done),
                self.dir,
            )

    def write(self, index: int, vectors: np.ndarray) -> None:
        """Shard ``index``'s embeddings into its rows, flushed, then recorded."""
        a, b = self.ranges[index]
        if vectors.shape[0] != b - a:
            raise ValueError(f"shard {index} has {vectors.shape[0]} rows, expected {b - a}")
        if self._array is None:
            self.width = int(vectors.shape[1])
            self.dir.mkdir(parents=True, exist_ok=True)
            self._array = np.lib.format.open_memmap(
                self.dir / "array.npy", mode="w+", dtype=np.float32, shape=(self.n, self.width)
            )
        self._array[a:b] = vectors
        self._array.flush()
        self.done[index] = rows_digest(self._array[a:b])
        release(self._array)  # written and flushed: no need to keep it resident
        tmp = self.dir / "manifest.json.tmp"
        with tmp.open("w") as fh:
            json.dump(self._manifest(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.dir / "manifest.json")

    def finish(self) -> np.ndarray:
        """The complete embeddings as a cache entry, memory-mapped read-only."""
        if self.missing():
            raise RuntimeError(f"shards {self.missing()[:3]} are not encoded yet")
        if self._array is None:  # an empty corpus
            return np.zeros((0, 0), dtype=np.float32)
        self._array.flush()
        src = self.dir / "array.npy"

        def place(d: Path) -> None:
            try:
                os.link(src, d / "array.npy")
            except OSError:
                shutil.copyfile(src, d / "array.npy")

        entry = self.cache.store("embeddings", self.key, self.meta, place)
        if entry is None:  # the cache cannot keep it: use the partial file as it is
            return np.load(src, mmap_mode="r")
        self._array = None
        shutil.rmtree(self.dir, ignore_errors=True)
        return np.load(entry / "array.npy", mmap_mode="r")


def cached(cache: Cache, key: str, meta: dict, n: int) -> np.ndarray | None:
    """A complete entry's embeddings, memory-mapped, or ``None``."""
    entry = cache.load("embeddings", key, meta)
    if entry is None:
        return None
    vectors = np.load(entry / "array.npy", mmap_mode="r")
    return vectors if vectors.shape[0] == n else None


def encode_corpus(
    encoder,
    corpus: Sequence[Passage],
    cache: Cache,
    key: str,
    meta: dict,
    shard: int = SHARD,
    ray: Any = None,
) -> Job[np.ndarray]:
    """``corpus``' passage embeddings under ``encoder`` (module notes): from the cache when
    complete, else encoded shard by shard, resuming a partial entry. A cache that cannot be
    written gets the embeddings computed in memory. ``ray``
    (:class:`~clirlens.core.retrieval.ray_encode.RayOptions`) encodes the missing shards on
    Ray instead of here."""
    n = len(corpus)
    vectors = cached(cache, key, meta, n)
    if vectors is not None:
        yield Progress(n, n, f"{encoder.name}: passage embeddings cached")
        return vectors
    try:
        partial = PartialEntry(cache, key, meta, n, shard) if cache.writable else None
    except OSError:
        partial = None
    if ray is not None:
        from clirlens.core.retrieval.ray_encode import encode_shards

        if partial is None:
            raise UserError(
                f"--ray writes its shards into the cache, and {cache.root} cannot be "
                "written: give a writable --cache-dir"
            )
        yield from encode_shards(partial, encoder, corpus, ray)
        return partial.finish()
    if partial is not None and partial.done:
        left = len(partial.missing())
        yield Progress(
            0, n, f"{encoder.name}: resuming, {left} of {len(partial.ranges)} shards to encode"
        )
    ranges = shard_ranges(n, shard)
    todo = partial.missing() if partial is not None else list(range(len(ranges)))
    memory: list[np.ndarray | None] = [None] * len(ranges)
    if len(todo) > LARGE:  # memory over speed (clirlens.core.memory.bound_heap)
        bound_heap()
    for index in todo:
        trim_heap()  # the previous shard's texts, token ids and tensors are free by now
        a, b = ranges[index]
        texts = [encoder.passage_text(p) for p in corpus[a:b]]
        label = f"(shard {index + 1}/{len(ranges)})"
        rows = yield from mapped(
            encoder.encode(texts, "passage"),
            lambda p, a=a, label=label: Progress(a + p.done, n, f"{p.message} {label}"),
        )
        del texts
        if partial is not None:
            try:
                partial.write(index, rows)
                continue
            except OSError as exc:
                log.warning("cannot write %s (%s): encoding in memory", partial.dir, exc)
                cache.writable = False
                memory = _recover(partial, ranges, memory)
                partial = None
        memory[index] = rows
    if partial is not None:
        with contextlib.suppress(OSError):
            return partial.finish()
        memory = _recover(partial, ranges, memory)
    parts = [m for m in memory if m is not None]
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _recover(
    partial: PartialEntry, ranges: list[tuple[int, int]], memory: list[np.ndarray | None]
) -> list[np.ndarray | None]:
    """The shards ``partial`` holds, copied into memory (when the disk gave up)."""
    out = list(memory)
    for i in partial.done:
        if partial._array is not None:
            a, b = ranges[i]
            out[i] = np.array(partial._array[a:b])
    return out
