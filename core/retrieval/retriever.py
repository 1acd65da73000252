"""Retrievers: a dense model over a FAISS index, or BM25, behind one interface.

``prepare(corpus)`` and ``search(queries, k)`` are generators (they yield
:class:`Progress`, see :mod:`clirlens.core.progress`). A dense retriever caches passage and
query embeddings on disk (:mod:`clirlens.core.retrieval.cache`), keyed by the encoder's fingerprint
(weights, conventions, dtype) and the texts' fingerprint, so a warm run skips encoding.
Closing the generator mid-way (cancel) stores nothing, so the cache stays consistent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from clirlens.core.data.store import corpus_fingerprint, passage_ids
from clirlens.core.errors import ModelError
from clirlens.core.hashing import fingerprint
from clirlens.core.memory import no_gc
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import ModelSpec
from clirlens.core.progress import Job
from clirlens.core.retrieval import index as faiss_index
from clirlens.core.retrieval.bm25 import BM25Retriever
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.runs import RunRetriever
from clirlens.core.retrieval.shards import encode_corpus, passage_meta
from clirlens.core.retrieval.streaming import StreamEncoder
from clirlens.core.types import Passage, Progress, Query, Run, ScoredPassage

# what the recall cached with a search means (index.recall_at_k); a new definition
# recomputes it rather than showing a figure measured another way
RECALL_DEFINITION = "ties-found-by-score"


class Retriever(Protocol):
    name: str
    kind: str

    def prepare(self, corpus: Sequence[Passage]) -> Job[None]: ...

    def search(self, queries: Sequence[Query], k: int) -> Job[Run]: ...

    def describe(self) -> dict: ...


def queries_fingerprint(queries: Sequence[Query]) -> str:
    return fingerprint([(q.id, q.lang, q.text) for q in queries])


class DenseRetriever:
    kind = "dense"

    def __init__(
        self,
        encoder: Encoder,
        cache: Cache | None = None,
        index_config: faiss_index.IndexConfig | None = None,
        passage_encoder: Encoder | None = None,
    ) -> None:
        self.encoder = encoder  # queries (and token states for alignments)
        # passages: another model for an asymmetric retriever (a distilled query encoder
        # and its teacher, DPR's context encoder), else the same one
        self.passage_encoder = passage_encoder or encoder
        self.cache = cache or Cache()
        self.index_config = index_config or faiss_index.IndexConfig()
        self._index: Any = None  # opened or built when first needed (_ensure_index)
        self._index_meta: dict[str, Any] = {}
        self._corpus: Sequence[Passage] = ()
        self._row: dict[str, int] | None = None
        self.passage_vectors: np.ndarray | None = None
        self.recall: dict[str, Any] | None = None  # an approximate index checked (search)
        self.ray: Any = None  # RayOptions: encode the corpus' shards on Ray (index --ray)

    @property
    def name(self) -> str:
        return self.encoder.name

    def describe(self) -> dict:
        index = self.index_config.kind
        out = {**self.encoder.describe(), "kind": "dense", "index": index}
        if self.passage_vectors is not None:
            out["index"] = self._config.kind
            out["passages"] = len(self._corpus)
        if self.recall is not None:
            out["index_recall"] = self.recall
        if self.passage_encoder is not self.encoder:
            out["passage_encoder"] = self.passage_encoder.describe()
        return out

    # -- corpus ------------------------------------------------------------------------------
    def prepare(self, corpus: Sequence[Passage]) -> Job[None]:
        model_fp = self.passage_encoder.fingerprint()
        corpus_fp = corpus_fingerprint(corpus)
        meta = passage_meta(model_fp, corpus_fp, len(corpus))
        key = fingerprint(meta)
        vectors = yield from encode_corpus(
            self.passage_encoder, corpus, self.cache, key, meta, ray=self.ray
        )
        self._corpus = corpus  # its ids are read when a search needs them
        self._row = None
        self.passage_vectors = vectors
        self._index = None
        self._index_meta = {"embeddings": key, "config": repr(self._config)}
        if not self._config.needs_cache or not self.cache.has("index", self._key()):
            yield from self._ensure_index()  # built now, while preparing is expected to take time
        # a cached index is opened when a search first needs it; a search that is cached
        # itself (search) needs neither the index nor the query encoder

    def stream_feed(self) -> StreamEncoder | None:
        """What encodes this model's passage embeddings while a corpus is read into its store
        (:mod:`clirlens.core.retrieval.streaming`); none when Ray is to encode them."""
        return StreamEncoder(self.passage_encoder, self.cache) if self.ray is None else None

    @property
    def _config(self) -> faiss_index.IndexConfig:
        return self.index_config.resolve(len(self._corpus))

    def _key(self) -> str:
        """The index's cache key."""
        return fingerprint(self._index_meta)

    def _ensure_index(self) -> Job[Any]:
        if self._index is None:
            if self.passage_vectors is None:
                raise RuntimeError("prepare() the corpus before searching")
            self._index = yield from self._build_index(self.passage_vectors)
        return self._index

    def _build_index(self, vectors: np.ndarray) -> Job[Any]:
        cfg = self._config
        if not cfg.needs_cache:
            return faiss_index.build(vectors, cfg)
        meta, key = self._index_meta, self._key()
        entry = self.cache.load("index", key, meta)
        if entry is not None:
            return faiss_index.load(entry / "index.faiss", cfg)
        yield Progress(0, 1, f"{self.name}: building {cfg.kind} index")
        built = faiss_index.build(vectors, cfg)
        entry = self.cache.store(
            "index", key, meta, lambda d, index=built: faiss_index.save(index, d / "index.faiss")
        )
        yield Progress(1, 1, f"{self.name}: {cfg.kind} index built")
        if entry is None:  # not kept: the index in memory is the only copy
            return built
        del built  # the saved copy, memory-mapped, holds no anonymous memory
        return faiss_index.load(entry / "index.faiss", cfg)

    # -- queries -----------------------------------------------------------------------------
    def embed_queries(self, queries: Sequence[Query]) -> Job[np.ndarray]:
        meta = {
            "model": self.encoder.fingerprint(),
            "queries": queries_fingerprint(queries),
            "role": "query",
            "n": len(queries),
        }
        key = fingerprint(meta)
        vectors = self.cache.load_array("embeddings", key, meta)
        if vectors is None or vectors.shape[0] != len(queries):
            vectors = yield from self.encoder.encode([q.text for q in queries], "query")
            if len(queries) > 1:  # single free-text queries are not worth a cache entry
                self.cache.store_array("embeddings", key, meta, vectors)
        return vectors

    def exact_rank(
        self, queries: Sequence[Query], query_id: str, passage_id: str
    ) -> Job[tuple[int, float] | None]:
        """The rank and score of ``passage_id`` for ``query_id`` over the whole corpus, also
        below the search depth: the score is the query's inner product with the passage,
        the rank 1 + the number of passages scoring higher. ``queries`` are the ones whose
        embeddings were cached with it (the direction's), so nothing is encoded again."""
        if self.passage_vectors is None:
            return None
        if self._row is None:
            self._row = {pid: i for i, pid in enumerate(passage_ids(self._corpus))}
        row = self._row.get(passage_id)
        index = next((i for i, q in enumerate(queries) if q.id == query_id), None)
        if index is None or row is None:
            return None
        qvecs = yield from self.embed_queries(queries)
        scores = self.passage_vectors @ qvecs[index]
        faiss_index.release(self.passage_vectors)
        score = float(scores[row])
        return 1 + int(np.count_nonzero(scores > score)), score

    def search(self, queries: Sequence[Query], k: int) -> Job[Run]:
        """The top ``k`` of every query. The rows and scores of a search of several queries
        are cached (keyed by the index's embeddings and configuration, the queries and
        ``k``), with the recall measured for an approximate index: a reopened workspace
        shows its rankings without opening the index or loading the model, and they are
        the rankings the search gave (tests/core/retrieval/test_shards.py)."""
        if self.passage_vectors is None:
            raise RuntimeError("prepare() the corpus before searching")
        meta = {**self._index_meta, "queries": queries_fingerprint(queries), "k": k}
        meta["recall"] = RECALL_DEFINITION
        key = fingerprint(meta)
        entry = self.cache.load("search", key, meta) if len(queries) > 1 else None
        if entry is not None:
            scores = np.load(entry / "scores.npy", allow_pickle=False)
            rows = np.load(entry / "rows.npy", allow_pickle=False)
            self.recall = json.loads((entry / "recall.json").read_text()) or self.recall
        else:
            scores, rows = yield from self._search(queries, k)
            if len(queries) > 1:
                recall = None if isinstance(self._index, faiss_index.ExactIndex) else self.recall
                self.cache.store(
                    "search", key, meta, lambda d: _save_search(d, scores, rows, recall)
                )
                if self._config.needs_cache and self.cache.has("index", self._key()):
                    # the pages a search of every query touched would stay resident until
                    # another model's encoding and index need the memory: closed, and
                    # opened again when a later search needs it
                    self._index = None
        rankings = {}
        ids = passage_ids(self._corpus)
        # plain Python lists and map(): per-element numpy scalars and per-record generator
        # steps made this loop the slowest part of a warm run (238k records for 2 models x
        # 1190 queries x k=100)
        ranks = range(1, rows.shape[1] + 1)
        with no_gc():
            for q, srow, rrow in zip(queries, scores.tolist(), rows.tolist(), strict=True):
                if -1 in rrow:  # fewer than k passages found: FAISS fills with -1
                    kept = [(s, r) for s, r in zip(srow, rrow, strict=True) if r >= 0]
                    srow, rrow = [s for s, _ in kept], [r for _, r in kept]
                passages = map(ids.__getitem__, rrow)
                rankings[q.id] = tuple(map(ScoredPassage, passages, srow, ranks))
        yield Progress(len(queries), len(queries), f"{self.name}: searched")
        return Run(self.name, rankings)

    def _search(self, queries: Sequence[Query], k: int) -> Job[tuple[np.ndarray, np.ndarray]]:
        index = yield from self._ensure_index()
        qvecs = yield from self.embed_queries(queries)
        assert self.passage_vectors is not None
        if qvecs.shape[1] != self.passage_vectors.shape[1]:
            raise ModelError(
                f"{self.encoder.name} embeds queries in {qvecs.shape[1]} dimensions but its "
                f"passage model {self.passage_encoder.name} in {self.passage_vectors.shape[1]}: "
                "the two sides of a model need the same hidden size"
            )
        scores, rows = faiss_index.search(index, qvecs, k)
        if not isinstance(index, faiss_index.ExactIndex) and len(queries) > 1:
            self.recall = self._check_recall(qvecs, rows, k)
            yield Progress(
                len(queries),
                len(queries),
                f"{self.name}: {self.recall['index']} index finds {self.recall['recall']:.3f} "
                f"of the exact top {k} (on {self.recall['queries']} queries)",
            )
        return scores, rows

    def _check_recall(self, qvecs: np.ndarray, rows: np.ndarray, k: int) -> dict[str, Any]:
        """Recall@k of the approximate index against exact search, on a sample of the
        queries just searched (:func:`~clirlens.core.retrieval.index.recall_at_k`)."""
        sample = faiss_index.sample_rows(len(qvecs))
        assert self.passage_vectors is not None
        exact = faiss_index.ExactIndex(self.passage_vectors)
        truth, truth_rows = faiss_index.search(exact, qvecs[sample], k)
        truth = np.where(truth_rows >= 0, truth, np.nan)
        picked = rows[sample]
        # the approximate results scored exactly (IVF-PQ's own scores are approximate)
        found = np.einsum("qkd,qd->qk", self.passage_vectors[np.maximum(picked, 0)], qvecs[sample])
        faiss_index.release(self.passage_vectors)
        found = np.where(picked >= 0, found, np.nan)
        return {
            "index": self._config.kind,
            "k": int(min(k, len(self._corpus))),
            "recall": faiss_index.recall_at_k(found, truth),
            "queries": len(sample),
        }


def _save_search(d: Path, scores: np.ndarray, rows: np.ndarray, recall: Any) -> None:
    np.save(d / "scores.npy", np.ascontiguousarray(scores), allow_pickle=False)
    np.save(d / "rows.npy", np.ascontiguousarray(rows), allow_pickle=False)
    (d / "recall.json").write_text(json.dumps(recall))


def make_retriever(
    spec: ModelSpec,
    *,
    device: str = "auto",
    dtype: str = "fp32",
    batch_size: int = 32,
    cache: Cache | None = None,
    index_config: faiss_index.IndexConfig | None = None,
) -> Retriever:
    if spec.kind == "bm25":
        return BM25Retriever(spec.name)
    if spec.kind == "run":
        return RunRetriever(spec)
    cache = cache or Cache()

    def encoder(s: ModelSpec) -> Encoder:
        return Encoder(s, device=device, dtype=dtype, batch_size=batch_size, memo_dir=cache.root)

    return DenseRetriever(
        encoder(spec),
        cache=cache,
        index_config=index_config,
        passage_encoder=encoder(spec.passages) if spec.passages is not None else None,
    )
