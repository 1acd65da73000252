"""Encoder conventions checked against an independent computation with plain transformers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from clirlens.core.errors import ModelError
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.types import Passage, Progress

from ..tiny_models import make_tiny_bert

TEXTS = ["hello world", "the cat sat on the mat", "Paris is the capital of France ?", "a"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        sentence_transformers={
            "pooling": "mean",
            "normalize": True,
            "prompts": {"query": "query : "},
        },
    )


def reference(folder, texts, pooling, normalize, max_length=64):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    out = []
    for t in texts:  # one at a time: no padding at all
        enc = tok(t, return_tensors="pt", truncation=True, max_length=max_length)
        with torch.no_grad():
            h = model(**enc).last_hidden_state[0]
        v = h[0] if pooling == "cls" else h.mean(0)
        if normalize:
            v = v / v.norm()
        out.append(v.numpy())
    return np.stack(out)


def test_mean_pooling_prefix_and_normalisation_match_reference(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu", batch_size=3)
    got = run(enc.encode(TEXTS, "query"))
    want = reference(tiny, ["query : " + t for t in TEXTS], "mean", True)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # passages have no prompt in this folder
    got_p = run(enc.encode(TEXTS, "passage"))
    np.testing.assert_allclose(got_p, reference(tiny, TEXTS, "mean", True), atol=1e-5)


def test_cls_pooling_without_normalisation(tmp_path):
    folder = make_tiny_bert(
        tmp_path / "cls", seed=3, sentence_transformers={"pooling": "cls", "normalize": False}
    )
    enc = Encoder(parse_model_arg(str(folder)), device="cpu", batch_size=2)
    got = run(enc.encode(TEXTS, "passage"))
    np.testing.assert_allclose(got, reference(folder, TEXTS, "cls", False), atol=1e-5)
    assert not np.allclose(np.linalg.norm(got, axis=1), 1.0)


def test_truncation_at_max_length(tmp_path):
    folder = make_tiny_bert(
        tmp_path / "short",
        seed=4,
        sentence_transformers={"pooling": "mean", "normalize": True, "max_seq_length": 5},
    )
    enc = Encoder(parse_model_arg(str(folder)), device="cpu")
    long_text = "the cat sat on the mat the dog ran far"
    got = run(enc.encode([long_text, "the cat sat"], "passage"))
    want = reference(folder, [long_text, "the cat sat"], "mean", True, max_length=5)
    np.testing.assert_allclose(got, want, atol=1e-5)
    # 5 tokens = [CLS] the cat sat [SEP]: truncated text equals the short one
    np.testing.assert_allclose(got[0], got[1], atol=1e-5)


def test_title_join_only_when_model_uses_titles(tiny, tmp_path):
    folder = make_tiny_bert(tmp_path / "dpr", seed=5)
    p = Passage("d1", "the cat sat", "en", title="hello")
    assert Encoder(parse_model_arg(f"tydi={folder}")).passage_text(p) == "hello the cat sat"
    assert Encoder(parse_model_arg(str(tiny))).passage_text(p) == "the cat sat"
    assert (
        Encoder(parse_model_arg(f"tydi={folder}")).passage_text(Passage("d2", "the cat", "th"))
        == "the cat"
    )


def test_encode_yields_progress_and_keeps_input_order(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu", batch_size=1)
    job = enc.encode(TEXTS, "passage")
    seen = []
    vectors = run(job, seen.append)
    assert all(isinstance(p, Progress) for p in seen)
    assert seen[-1].done == seen[-1].total == len(TEXTS)
    single = run(enc.encode([TEXTS[2]], "passage"))
    np.testing.assert_allclose(vectors[2], single[0], atol=1e-5)


def test_token_states_mark_prefix_and_special_tokens(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu")
    (ts,) = run(enc.token_states(["Paris is the capital"], role="query"))
    content = ts.content()
    assert content.tokens == ("Paris", "is", "the", "capital")
    assert [ts.text[s:e] for s, e in content.offsets] == ["Paris", "is", "the", "capital"]
    assert content.vectors.shape == (4, 32) and content.vectors.dtype == np.float32
    # [CLS] query : ... [SEP] are kept but marked
    assert ts.tokens[0] == "[CLS]" and ts.special[0] and ts.special[-1]
    assert sum(ts.special) == 4


def test_token_states_layer_out_of_range(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu")
    with pytest.raises(ModelError, match="layer 7 is out of range"):
        run(enc.token_states(["hello"], layer=7))
    (emb,) = run(enc.token_states(["hello"], layer=0))
    (last,) = run(enc.token_states(["hello"], layer=-1))
    assert not np.allclose(emb.vectors, last.vectors)


def test_bf16_close_to_fp32(tiny):
    fp32 = run(Encoder(parse_model_arg(str(tiny)), device="cpu").encode(TEXTS, "passage"))
    bf16 = run(
        Encoder(parse_model_arg(str(tiny)), device="cpu", dtype="bf16").encode(TEXTS, "passage")
    )
    cos = (fp32 * bf16).sum(1)
    assert cos.min() > 0.99


def test_bad_dtype(tiny):
    with pytest.raises(ModelError, match="dtype 'fp8'"):
        Encoder(parse_model_arg(str(tiny)), dtype="fp8").loaded  # noqa: B018
