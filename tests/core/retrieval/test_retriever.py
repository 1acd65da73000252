"""Dense retrieval over FAISS equals brute force; the embedding cache hits, invalidates,
and rebuilds damaged entries; BM25 tokenises unspaced scripts."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.errors import UserError
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval import index as faiss_index
from clirlens.core.retrieval.bm25 import BM25Retriever, tokenize
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import DenseRetriever
from clirlens.core.types import Passage, Query

from ..tiny_models import make_tiny_bert

CORPUS = tuple(
    Passage(f"d{i}", t, "en")
    for i, t in enumerate(
        [
            "the cat sat on the mat",
            "the dog ran far",
            "Paris is the capital of France",
            "hello world",
            "what is a cat",
            "the mat",
        ]
    )
)
QUERIES = (
    Query("q1", "cat on mat", "en"),
    Query("q2", "capital of France", "en"),
    Query("q3", "dog", "en"),
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=7,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )


def retriever(folder, cache_root, **kw):
    return DenseRetriever(
        Encoder(parse_model_arg(str(folder)), device="cpu"), cache=Cache(cache_root), **kw
    )


def test_dense_search_equals_brute_force(tiny, tmp_path):
    r = retriever(tiny, tmp_path)
    run(r.prepare(CORPUS))
    result = run(r.search(QUERIES, k=4))
    P = run(r.encoder.encode_passages(CORPUS))
    Q = run(r.encoder.encode([q.text for q in QUERIES], "query"))
    S = Q @ P.T
    for qi, q in enumerate(QUERIES):
        want = [CORPUS[j].id for j in np.argsort(-S[qi], kind="stable")[:4]]
        got = [sp.passage_id for sp in result.top(q.id)]
        assert got == want
        assert [sp.rank for sp in result.top(q.id)] == [1, 2, 3, 4]
        np.testing.assert_allclose(
            [sp.score for sp in result.top(q.id)], np.sort(S[qi])[::-1][:4], rtol=1e-5
        )


def test_k_beyond_the_corpus_returns_every_passage_once(tiny, tmp_path):
    r = retriever(tiny, tmp_path)
    run(r.prepare(CORPUS))
    result = run(r.search(QUERIES, k=len(CORPUS) + 4))  # FAISS fills the rest with -1
    for q in QUERIES:
        top = result.top(q.id)
        assert sorted(sp.passage_id for sp in top) == sorted(p.id for p in CORPUS)
        assert [sp.rank for sp in top] == list(range(1, len(CORPUS) + 1))
        assert all(isinstance(sp.score, float) for sp in top)


def test_cache_hit_then_invalidation_on_corpus_and_model_change(tiny, tmp_path):
    r = retriever(tiny, tmp_path)
    run(r.prepare(CORPUS))
    assert r.cache.events[-1].startswith("miss:")
    run(r.search(QUERIES, 2))  # caches the query embeddings too
    r2 = retriever(tiny, tmp_path)
    run(r2.prepare(CORPUS))
    assert r2.cache.events[-1].startswith("hit:")
    np.testing.assert_array_equal(r.passage_vectors, r2.passage_vectors)
    r2b = retriever(tiny, tmp_path)
    run(r2b.prepare(CORPUS))
    run(r2b.search(QUERIES, 2))
    assert r2b.encoder._loaded is None, "a warm run must not load the model's weights"
    changed = (*CORPUS[:-1], Passage("d5", "the mat is red", "en"))
    r3 = retriever(tiny, tmp_path)
    run(r3.prepare(changed))
    assert r3.cache.events[-1].startswith("miss:")
    other = make_tiny_bert(
        tmp_path / "other", seed=8, sentence_transformers={"pooling": "mean", "normalize": True}
    )
    r4 = retriever(other, tmp_path)
    run(r4.prepare(CORPUS))
    assert r4.cache.events[-1].startswith("miss:")


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta"])
def test_damaged_cache_entry_is_rebuilt_not_used(tiny, tmp_path, damage):
    r = retriever(tiny, tmp_path)
    run(r.prepare(CORPUS))
    good = r.passage_vectors.copy()
    (entry,) = (tmp_path / "embeddings").iterdir()
    array = entry / "array.npy"
    if damage == "truncate":
        array.write_bytes(array.read_bytes()[:-16])
    elif damage == "flip":
        raw = bytearray(array.read_bytes())
        raw[-5] ^= 0xFF
        array.write_bytes(bytes(raw))
    else:
        (entry / "meta.json").write_text("{not json")
    r2 = retriever(tiny, tmp_path)
    run(r2.prepare(CORPUS))
    assert r2.cache.events[-1].startswith("corrupt:")
    np.testing.assert_allclose(r2.passage_vectors, good, atol=1e-6)
    r3 = retriever(tiny, tmp_path)
    run(r3.prepare(CORPUS))
    assert r3.cache.events[-1].startswith("hit:")


def test_cancel_mid_encoding_leaves_no_entry(tiny, tmp_path):
    r = DenseRetriever(
        Encoder(parse_model_arg(str(tiny)), device="cpu", batch_size=1), cache=Cache(tmp_path)
    )
    job = r.prepare(CORPUS * 20)
    next(job)
    next(job)
    job.close()  # what a GUI worker's quit does at the next yield
    assert not (tmp_path / "embeddings").exists() or not any(
        p for p in (tmp_path / "embeddings").iterdir() if not p.name.startswith(".")
    )


def test_hnsw_index_is_cached_and_agrees_with_flat(tiny, tmp_path):
    flat = retriever(tiny, tmp_path)
    run(flat.prepare(CORPUS))
    hnsw = retriever(tiny, tmp_path, index_config=faiss_index.IndexConfig("hnsw"))
    run(hnsw.prepare(CORPUS))
    assert (tmp_path / "index").is_dir()
    a, b = run(flat.search(QUERIES, 3)), run(hnsw.search(QUERIES, 3))
    for q in QUERIES:  # tiny corpus: HNSW is exact here
        assert [s.passage_id for s in a.top(q.id)] == [s.passage_id for s in b.top(q.id)]


def test_ivfpq_refuses_a_corpus_too_small_to_train(tiny, tmp_path):
    r = retriever(tiny, tmp_path, index_config=faiss_index.IndexConfig("ivfpq"))
    with pytest.raises(UserError, match="ivfpq needs at least"):
        run(r.prepare(CORPUS))


def test_bm25_tokenises_thai_and_chinese_into_character_ngrams():
    thai = tokenize("สวัสดี ครับ", "th")
    assert thai[:6] == ["ส", "ว", "ั", "ส", "ด", "ี"]  # vowel signs do not cut the word
    assert "วั" in thai and "คร" in thai
    assert tokenize("हिन्दी भाषा", "xx") == ["हिन्दी", "भाषा"]  # matras stay in their word
    assert "北京" in tokenize("我爱北京", "zh")
    assert tokenize("Hello, World!", "xx") == ["hello", "world"]


def test_bm25_ranks_lexical_match_first():
    r = BM25Retriever()
    run(r.prepare(CORPUS))
    result = run(r.search(QUERIES, 3))
    assert result.top("q2")[0].passage_id == "d2"
    assert result.top("q3")[0].passage_id == "d1"
    thai = (Passage("t1", "แมวนั่งบนเสื่อ", "th"), Passage("t2", "กรุงปารีสเป็นเมืองหลวง", "th"))
    r2 = BM25Retriever()
    run(r2.prepare(thai))
    assert run(r2.search([Query("q", "เมืองหลวง", "th")], 2)).top("q")[0].passage_id == "t2"
