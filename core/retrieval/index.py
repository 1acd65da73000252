"""FAISS indexes over embeddings.

* ``flat`` (default): exact inner product (``IndexFlatIP``). With L2-normalised embeddings
  inner product is cosine. Exact search is the right default up to ~10^5-10^6 passages.
* ``hnsw``: graph index (``IndexHNSWFlat``, inner-product metric) for large corpora;
  ``M`` links per node, ``efSearch`` at query time.
* ``ivfpq``: inverted file with product quantisation (``IndexIVFPQ``) for very large
  corpora; needs enough vectors to train (39 per centroid as FAISS recommends).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clirlens.core.errors import UserError

INDEX_KINDS = ("flat", "hnsw", "ivfpq")


@dataclass(frozen=True)
class IndexConfig:
    kind: str = "flat"
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

    @property
    def needs_cache(self) -> bool:
        """A flat index is rebuilt from cached embeddings in milliseconds; the others are
        worth caching themselves."""
        return self.kind != "flat"


def build(vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> Any:
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    if config.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif config.kind == "hnsw":
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
        index.train(x)
        index.nprobe = config.ivf_nprobe
    index.add(x)
    return index


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
    import faiss

    index = faiss.read_index(str(path))
    if config.kind == "hnsw":
        index.hnsw.efSearch = config.hnsw_ef_search
    elif config.kind == "ivfpq":
        index.nprobe = config.ivf_nprobe
    return index
