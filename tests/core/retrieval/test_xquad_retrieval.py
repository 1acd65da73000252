"""Real multilingual-e5-small on full XQuAD (1190 questions vs 240 paragraphs).

The pipeline (encoder -> cache -> FAISS -> ir-measures) must give the same R@1 as a
brute-force numpy argmax done here, its embeddings must match sentence-transformers' on
the same model and conventions, and th->en / hi->en R@1 must lie where this model is
measured (README: th->en 0.73, hi->en 0.79; the test models' weights went through 4-bit
quantisation, so the band is a few points wide).
"""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.data.xquad import load_xquad
from clirlens.core.evaluation.metrics import evaluate
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import DenseRetriever

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


@pytest.fixture(scope="module")
def setup(me5_dir, xquad_dir, tmp_path_factory, fast_dtype):
    dataset = load_xquad(xquad_dir, ["en", "th", "hi"])
    # bf16 where the CPU multiplies it natively keeps this test fast;
    # benchmarks/bench_encoder.py checks that bf16 R@1 stays within half a point of fp32.
    encoder = Encoder(parse_model_arg(f"me5-small={me5_dir}"), device="cpu", dtype=fast_dtype)
    retriever = DenseRetriever(encoder, cache=Cache(tmp_path_factory.mktemp("cache")))
    run(retriever.prepare(dataset.passages("en")))
    return dataset, retriever


@pytest.mark.parametrize("qlang, low, high", [("th", 0.70, 0.77), ("hi", 0.75, 0.83)])
def test_r_at_1_equals_brute_force_and_lies_in_measured_range(setup, qlang, low, high):
    dataset, retriever = setup
    task = dataset.task(qlang, "en")
    result = run(retriever.search(task.queries, k=100))
    r1 = evaluate(result, task.qrels, ["R@1"]).aggregate["R@1"]

    Q = run(retriever.embed_queries(task.queries))  # from the cache search just filled
    P = retriever.passage_vectors
    best = np.argmax(Q @ P.T, axis=1)
    ids = [p.id for p in task.corpus]
    hits = [ids[b] in task.qrels.relevant(q.id) for q, b in zip(task.queries, best, strict=True)]
    brute = float(np.mean(hits))
    assert r1 == pytest.approx(brute, abs=1e-12)
    assert low <= r1 <= high, f"{qlang}->en R@1 {r1:.3f} outside [{low}, {high}]"


def test_embeddings_match_sentence_transformers(me5_dir, xquad_dir):
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Normalize,
        Pooling,
        Transformer,
    )

    dataset = load_xquad(xquad_dir, ["en", "th"])
    passages = dataset.passages("en")[:8]
    queries = dataset.queries("th")[:8]
    transformer = Transformer(str(me5_dir), max_seq_length=512)
    model = SentenceTransformer(
        modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean"), Normalize()],
        device="cpu",
    )
    ref_p = model.encode(["passage: " + p.text for p in passages], batch_size=4)
    ref_q = model.encode(["query: " + q.text for q in queries], batch_size=4)
    encoder = Encoder(parse_model_arg(f"me5-small={me5_dir}"), device="cpu", batch_size=4)
    ours_p = run(encoder.encode_passages(passages))
    ours_q = run(encoder.encode([q.text for q in queries], "query"))
    assert np.min(np.sum(ref_p * ours_p, axis=1)) > 0.9999
    assert np.min(np.sum(ref_q * ours_q, axis=1)) > 0.9999


def test_bf16_embeddings_stay_within_rounding_of_fp32(me5_dir, xquad_dir):
    """The bf16 forward pass (bf16 products, residual stream and attention weights without
    the softmax kernel) on the real model: measured min cosine to fp32 0.99998 over all 480
    en+th paragraphs and 0.99997 over 400 Thai questions."""
    dataset = load_xquad(xquad_dir, ["en", "th"])
    texts = [p.text for p in dataset.passages("th")[:12] + dataset.passages("en")[:12]]
    questions = [q.text for q in dataset.queries("th")[:24]]
    spec = parse_model_arg(f"me5-small={me5_dir}")
    vectors = {}
    for dtype in ("fp32", "bf16"):
        encoder = Encoder(spec, device="cpu", dtype=dtype, batch_size=8)
        vectors[dtype] = (
            run(encoder.encode(texts, "passage")),
            run(encoder.encode(questions, "query")),
        )
    for high, low in zip(vectors["fp32"], vectors["bf16"], strict=True):
        cos = np.sum(high * low, axis=1)
        assert cos.min() > 0.9999 and not np.array_equal(high, low)
