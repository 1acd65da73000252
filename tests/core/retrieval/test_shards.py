"""Sharded passage encoding: equal to encoding each shard on its own, resumed after a Cancel
or a SIGKILL with embeddings identical to an uninterrupted run, damaged shards redone;
exact search over the memory-mapped file equals FAISS' flat index; approximate indexes
report their recall against exact search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval import index as faiss_index
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import DenseRetriever
from clirlens.core.retrieval.shards import PartialEntry, encode_corpus, shard_ranges
from clirlens.core.types import Passage, Query

from ..tiny_models import WORDS


def corpus(n: int) -> tuple[Passage, ...]:
    rng = np.random.default_rng(3)
    return tuple(
        Passage(f"d{i}", " ".join(rng.choice(WORDS[:30], size=rng.integers(3, 40))), "en")
        for i in range(n)
    )


def encoder(folder) -> Encoder:
    return Encoder(parse_model_arg(str(folder)), device="cpu", batch_size=16)


META = {"model": "m", "corpus": "c", "role": "passage", "n": 0}


def test_shards_equal_encoding_each_shard_on_its_own(tiny, tmp_path):
    docs = corpus(130)
    enc = encoder(tiny)
    vectors = run(encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=50))
    assert isinstance(vectors, np.memmap) and vectors.shape == (130, 32)
    for a, b in shard_ranges(130, 50):
        alone = run(enc.encode_passages(docs[a:b]))
        np.testing.assert_array_equal(vectors[a:b], alone)
    # one shard holding all: the whole-corpus encoding, to rounding
    whole = run(enc.encode_passages(docs))
    np.testing.assert_allclose(vectors, whole, atol=1e-6)
    again = run(encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=50))
    np.testing.assert_array_equal(again, vectors)
    assert not list((tmp_path / "embeddings").glob(".partial-*"))


def test_a_cancel_resumes_at_the_first_missing_shard(tiny, tmp_path):
    docs = corpus(130)
    enc = encoder(tiny)
    job = encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=40)
    for p in job:
        if "shard 3/4" in p.message:
            break
    job.close()  # Cancel in the middle of shard 3
    partial = PartialEntry(Cache(tmp_path), "k", META, 130, 40)
    assert sorted(partial.done) == [0, 1]
    messages = []
    vectors = run(encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=40), messages.append)
    assert "resuming, 2 of 4 shards to encode" in messages[0].message
    assert not any("shard 1/4" in m.message for m in messages)
    uninterrupted = run(encode_corpus(enc, docs, Cache(tmp_path / "b"), "k", META, shard=40))
    np.testing.assert_array_equal(vectors, uninterrupted)


def test_a_damaged_shard_is_encoded_again(tiny, tmp_path):
    docs = corpus(100)
    enc = encoder(tiny)
    job = encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=30)
    for p in job:
        if "shard 4/4" in p.message:
            break
    job.close()
    partial = PartialEntry(Cache(tmp_path), "k", META, 100, 30)
    array = np.load(partial.dir / "array.npy", mmap_mode="r+")
    array[35] = 0.5  # shard 2's rows no longer match the manifest
    array.flush()
    del array
    assert sorted(PartialEntry(Cache(tmp_path), "k", META, 100, 30).done) == [0, 2]
    vectors = run(encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=30))
    clean = run(encode_corpus(enc, docs, Cache(tmp_path / "b"), "k", META, shard=30))
    np.testing.assert_array_equal(vectors, clean)


KILLED = textwrap.dedent(
    """
    import sys, time
    from clirlens.core.progress import run
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.retrieval.shards import encode_corpus
    sys.path.insert(0, sys.argv[3])
    from tests.core.retrieval.test_shards import META, corpus, encoder
    run(encode_corpus(encoder(sys.argv[1]), corpus(400), Cache(sys.argv[2]), "k", META,
                      shard=25), lambda p: time.sleep(0.02))
    """
)


def test_resume_after_sigkill_gives_the_uninterrupted_embeddings(tiny, tmp_path):
    cache = tmp_path / "cache"
    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tiny), str(cache), root],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    manifest = cache / "embeddings" / ".partial-k" / "manifest.json"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = len(json.loads(manifest.read_text())["done"])
        except (OSError, ValueError):
            done = 0
        if done >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the encoding finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = PartialEntry(Cache(cache), "k", META, 400, 25)
    assert 3 <= len(partial.done) < 16
    enc = encoder(tiny)
    resumed = run(encode_corpus(enc, corpus(400), Cache(cache), "k", META, shard=25))
    clean = run(encode_corpus(enc, corpus(400), Cache(tmp_path / "b"), "k", META, shard=25))
    np.testing.assert_array_equal(resumed, clean)


def test_exact_search_over_the_file_equals_faiss_flat_index(tmp_path, monkeypatch):
    import faiss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 24)).astype(np.float32)
    q = rng.standard_normal((40, 24)).astype(np.float32)
    flat = faiss.IndexFlatIP(24)
    flat.add(x)
    want = flat.search(q, 50)
    got = faiss_index.search(faiss_index.build(x, faiss_index.IndexConfig("flat")), q, 50)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])
    # block by block over a memory-mapped file (a large corpus): the same lists
    path = tmp_path / "x.npy"
    np.save(path, x)
    monkeypatch.setattr(faiss_index, "BLOCK_ROWS", 700)
    blocked = faiss_index.search(faiss_index.ExactIndex(np.load(path, mmap_mode="r")), q, 50)
    np.testing.assert_array_equal(blocked[1], want[1])
    np.testing.assert_array_equal(blocked[0], want[0])
    assert faiss_index.IndexConfig().resolve(faiss_index.FLAT_MAX).kind == "flat"
    assert faiss_index.IndexConfig().resolve(faiss_index.FLAT_MAX + 1).kind == "hnsw"
    assert faiss_index.IndexConfig("ivfpq").resolve(10).kind == "ivfpq"


def test_an_approximate_index_reports_its_recall_against_exact_search(tiny, tmp_path):
    docs = corpus(400)
    queries = tuple(Query(f"q{i}", p.text, "en") for i, p in enumerate(docs[:60]))
    r = DenseRetriever(
        encoder(tiny),
        cache=Cache(tmp_path),
        index_config=faiss_index.IndexConfig("hnsw", hnsw_m=4, hnsw_ef_search=8),
    )
    run(r.prepare(docs))
    result = run(r.search(queries, k=20))
    vectors = np.asarray(r.passage_vectors)
    qv = run(r.embed_queries(queries))
    exact = np.argsort(-(qv @ vectors.T), axis=1, kind="stable")[:, :20]
    rows = {pid: i for i, pid in enumerate(p.id for p in docs)}
    found = [
        len({rows[sp.passage_id] for sp in result.rankings[q.id]} & set(exact[i])) / 20
        for i, q in enumerate(queries)
    ]
    assert r.recall is not None and r.recall["queries"] == 60 and r.recall["k"] == 20
    assert r.recall["recall"] == pytest.approx(np.mean(found), abs=0.02)
    assert r.describe()["index"] == "hnsw" and r.describe()["index_recall"] == r.recall


def _beir_folder(tmp_path, docs):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": p.id, "text": p.text}) + "\n" for p in docs)
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": f"q{i}", "text": docs[i].text}) + "\n" for i in range(5))
    )
    (folder / "qrels" / "test.tsv").write_text("".join(f"q{i}\td{i}\t1\n" for i in range(5)))
    return folder


def test_index_reports_an_approximate_index_recall(tiny, tmp_path, capsys):
    from clirlens.core.cli.main import main

    folder = _beir_folder(tmp_path, corpus(300))
    args = ["index", "--beir", str(folder), "--model", str(tiny), "-q", "--index", "hnsw"]
    assert main([*args, "--cache-dir", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    assert "und corpus ready (300 passages, hnsw index)" in err
    assert "und hnsw index: recall@100 " in err and "against exact search on 5 queries" in err


def test_the_workspace_notes_what_an_approximate_index_costs(tiny, tmp_path):
    from clirlens.core.workspace.config import WorkspaceConfig
    from clirlens.core.workspace.workspace import Workspace

    folder = _beir_folder(tmp_path, corpus(300))
    config = WorkspaceConfig(
        kind="beir", dataset=str(folder), models=(str(tiny), str(tiny)), index="hnsw", k=20
    )
    ws = Workspace(config, cache=Cache(tmp_path / "c"))
    assert ws.index_notes("und") == []
    run(ws.prepare())
    notes = ws.index_notes("und")
    assert len(notes) == 2 and notes[0].startswith("tiny: hnsw, recall@20 ")
    assert notes[0].endswith(" vs exact (5 queries)")
    flat = Workspace(WorkspaceConfig(kind="beir", dataset=str(folder), models=(str(tiny),) * 2))
    run(flat.prepare())
    assert flat.index_notes("und") == []  # exact search costs nothing to say


@pytest.mark.parametrize(
    "config",
    [
        faiss_index.IndexConfig("hnsw", hnsw_m=4, hnsw_ef_search=8),
        faiss_index.IndexConfig("ivfpq", ivf_nlist=4, ivf_nprobe=2),
    ],
    ids=["hnsw", "ivfpq"],
)
def test_a_cached_index_is_memory_mapped_and_finds_what_the_built_one_finds(tiny, tmp_path, config):
    docs = corpus(400)
    queries = tuple(Query(f"q{i}", p.text, "en") for i, p in enumerate(docs[:30]))

    def searched(cache: Cache) -> dict:
        r = DenseRetriever(encoder(tiny), cache=cache, index_config=config)
        run(r.prepare(docs))
        return run(r.search(queries, k=10)).rankings

    memory = Cache(tmp_path / "memory")
    memory.writable = False  # nothing kept: the index built in memory is searched
    built = searched(memory)
    cold = Cache(tmp_path / "disk")
    assert searched(cold) == built  # built, saved, searched memory-mapped
    warm = Cache(tmp_path / "disk")
    assert searched(warm) == built
    assert any(e.startswith("hit:") for e in warm.events)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_reopened_search_gives_the_same_rankings_without_index_or_model(tiny, tmp_path, kind):
    docs = corpus(300)
    queries = tuple(Query(f"q{i}", p.text, "en") for i, p in enumerate(docs[:20]))
    config = faiss_index.IndexConfig(kind, hnsw_m=4, hnsw_ef_search=8)

    def opened() -> DenseRetriever:
        r = DenseRetriever(encoder(tiny), cache=Cache(tmp_path), index_config=config)
        run(r.prepare(docs))
        return r

    cold = opened()
    first = run(cold.search(queries, k=10))
    warm = opened()
    assert run(warm.search(queries, k=10)).rankings == first.rankings
    assert warm.recall == cold.recall and (kind == "flat") == (warm.recall is None)
    assert warm.encoder._loaded is None  # no model loaded
    assert warm._index is None or kind == "flat"  # no graph opened (exact search is a view)
    # another depth or other queries are searched, on the index opened then
    deeper = run(warm.search(queries, k=12)).rankings
    assert (warm._index is None) == (kind == "hnsw")  # a graph is closed after a batch
    assert {q: r[:10] for q, r in deeper.items()} == first.rankings or kind == "hnsw"
    one = run(warm.search(queries[:1], k=10)).rankings
    assert one[queries[0].id] == first.rankings[queries[0].id]
    assert warm._index is not None  # and kept open for the free-text searches that follow


def test_an_index_added_block_by_block_equals_one_added_at_once(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((900, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    config = faiss_index.IndexConfig("ivfpq", ivf_nlist=8, ivf_nprobe=3)
    q = x[:20] + 0.01
    whole = faiss_index.search(faiss_index.build(mapped, config), q, 10)
    monkeypatch.setattr(faiss_index, "BLOCK_ROWS", 128)
    blocks = faiss_index.search(faiss_index.build(mapped, config), q, 10)
    np.testing.assert_array_equal(whole[1], blocks[1])
    np.testing.assert_array_equal(whole[0], blocks[0])


def test_recall_counts_a_tied_copy_as_found_and_a_lower_score_as_missed():
    nan = np.nan
    exact = np.array([[0.9, 0.8, 0.8], [0.7, 0.6, nan]])
    # query 1: the second 0.8 is another copy of a tied passage: found; query 2: all found
    assert faiss_index.recall_at_k(np.array([[0.9, 0.8, 0.8], [0.7, 0.6, nan]]), exact) == 1.0
    # query 1 misses one (0.5 < 0.8); query 2 finds one of two
    found = np.array([[0.9, 0.8, 0.5], [0.7, 0.1, nan]])
    assert faiss_index.recall_at_k(found, exact) == pytest.approx((2 / 3 + 1 / 2) / 2)
