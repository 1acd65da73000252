"""FAISS indexes over embeddings.

* ``auto`` (default): ``flat`` up to :data:`FLAT_MAX` passages, ``hnsw`` above
  (:meth:`IndexConfig.resolve`); what it chose is recorded in the run's description.
* ``flat``: exact inner product, searched with ``faiss.knn`` straight over the (memory-mapped)
  embeddings (:class:`ExactIndex`): the same kernel as ``IndexFlatIP`` without copying the
  vectors into an index. With L2-normalised embeddings inner product is cosine.
* ``hnsw``: graph index (``IndexHNSWFlat``, inner-product metric) for large corpora;
  ``M`` links per node, ``efSearch`` at query time.
* ``ivfpq``: inverted file with product quantisation (``IndexIVFPQ``) for very large
  corpora; needs enough vectors to train (39 per centroid as FAISS recommends).
"""

from __future__ import annotations

import math
import mmap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.retrieval.index_kinds import FLAT_MAX, INDEX_KINDS

BLOCK_ROWS = 1 << 18  # rows per block of exact search over a large array
RECALL_SAMPLE = 100  # queries an approximate index is checked on against exact search


@dataclass(frozen=True)
class IndexConfig:
    kind: str = "auto"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nlist: int | None = None  # default: ~4*sqrt(n)
    ivf_nprobe: int = 16
    pq_m: int | None = None  # default: the largest divisor of dim <= dim/4 ... see _pq_m

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise UserError(
                f"index kind {self.kind!r} is unknown; use one of " + ", ".join(INDEX_KINDS)
            )

    def resolve(self, n: int) -> IndexConfig:
        """The concrete kind for ``n`` passages (``auto`` chooses by size)."""
        if self.kind != "auto":
            return self
        return replace(self, kind="flat" if n <= FLAT_MAX else "hnsw")

    @property
    def needs_cache(self) -> bool:
        """Exact search needs nothing beyond the cached embeddings; the others are worth
        caching themselves."""
        return self.kind not in ("flat", "auto")

    @property
    def exact(self) -> bool:
        return self.kind == "flat"


class ExactIndex:
    """Exact inner-product search over an array (memory-mapped or not) without copying it:
    ``faiss.knn`` with the inner-product metric, the kernel ``IndexFlatIP.search`` runs."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self.ntotal = int(vectors.shape[0])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` per query. Above :data:`BLOCK_ROWS` rows the array is searched block by
        block (each block's pages released after it) and the blocks' lists merged, ties by
        row; up to it, one ``faiss.knn`` call, exactly ``IndexFlatIP.search``."""
        import faiss

        x = self.vectors
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=np.float32)
        if self.ntotal <= BLOCK_ROWS:
            found = faiss.knn(queries, x, k, metric=faiss.METRIC_INNER_PRODUCT)
            release(x)
            return found
        scores, rows = [], []
        for a in range(0, self.ntotal, BLOCK_ROWS):
            block = x[a : a + BLOCK_ROWS]
            d, i = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
            scores.append(d)
            rows.append(np.where(i >= 0, i + a, -1))
            release(block)
        d, i = np.concatenate(scores, axis=1), np.concatenate(rows, axis=1)
        order = np.lexsort((i, -d))[:, :k]  # score descending, then row
        return np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)


def release(vectors: np.ndarray) -> None:
    """Drop a memory-mapped array's pages from this process' resident memory (the file
    stays in the operating system's page cache, so reading it again is cheap): a pass over
    a million embeddings would otherwise count them all against the process."""
    mm = getattr(vectors, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_DONTNEED)


def build(vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> Any:
    import faiss

    config = config.resolve(int(vectors.shape[0]))
    if config.kind == "flat":
        return ExactIndex(vectors)
    n, dim = vectors.shape
    if config.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = config.hnsw_ef_search
    else:
        nlist = config.ivf_nlist or max(1, int(4 * np.sqrt(n)))
        if n < 39 * nlist:
            raise UserError(
                f"ivfpq needs at least {39 * nlist} passages to train {nlist} "
                f"lists; this corpus has {n}: use --index flat or hnsw"
            )
        m = config.pq_m or _pq_m(dim)
        if dim % m:
            raise UserError(f"pq_m={m} must divide the embedding size {dim}")
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[sample_rows(n, min(n, 256 * nlist))]  # what FAISS would sample
        release(vectors)
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.nprobe = config.ivf_nprobe
    # added block by block from the (memory-mapped) embeddings, each block's pages released
    # after it: no copy of the whole array, no whole file resident beside the index
    for a in range(0, n, BLOCK_ROWS):
        block = vectors[a : a + BLOCK_ROWS]
        index.add(np.ascontiguousarray(block, dtype=np.float32))
        release(block)
    return index


def recall_at_k(found: np.ndarray, exact: np.ndarray, tol: float = 1e-5) -> float:
    """Mean over queries of the share of the exact top k an approximate search found, with
    ties counted as found: a result counts when its exact score reaches the k-th exact
    score (less ``tol``, float32 rounding), the definition of ann-benchmarks (Aumüller,
    Bernhardsson & Faithfull 2020, Information Systems 87). Comparing row ids instead
    would count a duplicate passage the index returned in place of an equal one as a
    miss. ``found``: exact scores of the approximate results; ``exact``: the exact top-k
    scores; rows padded with NaN where fewer than k exist."""
    shares = []
    for f, e in zip(found.tolist(), exact.tolist(), strict=True):
        truth = [x for x in e if not math.isnan(x)]
        if truth:
            hits = sum(1 for x in f if not math.isnan(x) and x >= truth[-1] - tol)
            shares.append(min(hits, len(truth)) / len(truth))
    return float(np.mean(shares)) if shares else 1.0


def sample_rows(n: int, m: int = RECALL_SAMPLE, seed: int = 0) -> np.ndarray:
    """``m`` of ``n`` row numbers, sorted (all of them when ``n <= m``), reproducibly."""
    if n <= m:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


def _pq_m(dim: int) -> int:
    for m in range(max(1, dim // 4), 0, -1):
        if dim % m == 0 and m <= 64:
            return m
    return 1


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` scores and row ids per query (ids are -1 where fewer than k exist)."""
    k = min(k, index.ntotal)
    if k <= 0:
        empty = np.zeros((len(queries), 0))
        return empty.astype(np.float32), empty.astype(np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def save(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path, config: IndexConfig) -> Any:
    """The index saved at ``path``, memory-mapped where FAISS can (its vectors and graph
    stay in the file's pages, which the kernel reclaims, instead of anonymous memory, where
    two large graphs would otherwise set the process' peak; README, "Corpora at scale");
    read into memory otherwise. Both give the same results (tests/core/retrieval)."""
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except (RuntimeError, AttributeError):  # a kind or a FAISS build without mapping
        index = faiss.read_index(str(path))
    if config.kind == "hnsw":
        index.hnsw.efSearch = config.hnsw_ef_search
    elif config.kind == "ivfpq":
        index.nprobe = config.ivf_nprobe
    return index
