"""The padding-free forward pass against transformers' own forward, text by text (no padding
at all), on tiny random BERT and XLM-R models and a DPR wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clirlens.core.models.encoder import Encoder
from clirlens.core.models.packed import PackedModel, packed_model
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run

from ..tiny_models import make_tiny_bert

# equal lengths next to each other (one attention call for the run), a one-token text, and
# a pad id (1 for XLM-R, 0 for BERT) inside a text, which XLM-R positions treat specially
SEQS = [
    [5, 9, 12, 7, 8, 30, 11, 4],
    [5, 9, 12, 7, 8, 30, 11, 4][::-1],
    [6, 1, 3, 2, 0, 7],
    [6, 7, 8, 9, 10, 3],
    [6, 20, 21],
    [3],
]


# the configuration of every tiny model here
TINY = dict(
    vocab_size=40,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=64,
)


def tiny_model(kind: str):
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    if kind == "bert":
        return BertModel(BertConfig(**TINY)).eval()
    return XLMRobertaModel(XLMRobertaConfig(pad_token_id=1, **TINY)).eval()


def reference(model, seqs, pooling):
    out = []
    with torch.inference_mode():
        for s in seqs:
            h = model(input_ids=torch.tensor([s])).last_hidden_state[0]
            out.append(h[0] if pooling == "cls" else h.mean(0))
    return torch.stack(out).numpy()


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_fp32_equals_transformers_text_by_text(kind, pooling):
    model = tiny_model(kind)
    packed = packed_model(model, "cpu", "fp32")
    assert isinstance(packed, PackedModel)
    with torch.inference_mode():
        got = packed.embed(SEQS, pooling).numpy()
    np.testing.assert_allclose(got, reference(model, SEQS, pooling), atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_bf16_close_to_fp32(kind):
    model = tiny_model(kind)
    with torch.inference_mode():
        low = packed_model(model, "cpu", "bf16").embed(SEQS, "mean")
        high = packed_model(model, "cpu", "fp32").embed(SEQS, "mean")
    assert low.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(low, high)
    assert float(cos.min()) > 0.999
    assert not torch.equal(low, high)  # the products really ran in bf16


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_attention_cut_into_chunks_gives_the_same_result(dtype, monkeypatch):
    import clirlens.core.models.packed as packed_module

    assert packed_module._chunks([(0, 5, 4)], heads=2, budget=64) == [
        (0, 2, 4),
        (8, 2, 4),
        (16, 1, 4),
    ]
    model = tiny_model("xlm-roberta")
    seqs = [SEQS[0]] * 3 + [SEQS[3]] * 4
    packed = packed_model(model, "cpu", dtype)
    with torch.inference_mode():
        whole = packed.embed(seqs, "mean")
        monkeypatch.setattr(packed_module._chunks, "__defaults__", (4 * 8 * 8,))
        cut = packed.embed(seqs, "mean")
    torch.testing.assert_close(cut, whole)


def test_bf16_without_onednn_uses_plain_bf16_products(monkeypatch):
    """Builds without oneDNN (e.g. some ARM wheels): bf16 weights through F.linear and the
    model's own activation; the same embeddings to bf16 rounding."""
    model = tiny_model("xlm-roberta")
    with torch.inference_mode():
        onednn = PackedModel(model, "roberta", "bf16").embed(SEQS, "mean")
        monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
        plain = PackedModel(model, "roberta", "bf16")
        assert not plain._packed_linear and not plain._fused_gelu
        got = plain.embed(SEQS, "mean")
    assert float(torch.nn.functional.cosine_similarity(got, onednn).min()) > 0.999


def test_a_text_without_tokens_is_a_clear_error():
    from clirlens.core.errors import ModelError

    packed = packed_model(tiny_model("bert"), "cpu", "fp32")
    with pytest.raises(ModelError, match="text 1 of the batch has no tokens"):
        packed.embed([[5, 6], []], "mean")


def test_runner_is_built_once_per_model_and_dtype():
    model = tiny_model("bert")
    a = packed_model(model, "cpu", "bf16")
    assert packed_model(model, "cpu", "bf16") is a
    assert packed_model(model, "cpu", "fp32") is not a


def test_unsupported_models_and_devices_fall_back():
    from transformers import DistilBertConfig, DistilBertModel

    distil = DistilBertModel(
        DistilBertConfig(vocab_size=40, dim=32, n_layers=1, n_heads=4, hidden_dim=64)
    ).eval()
    assert packed_model(distil, "cpu", "fp32") is None
    assert packed_model(tiny_model("bert"), "cuda", "fp32") is None
    from transformers import BertConfig, BertModel

    relative = BertModel(BertConfig(**TINY, position_embedding_type="relative_key"))
    assert packed_model(relative, "cpu", "fp32") is None


def test_dpr_wrapper_uses_its_bert_and_refuses_a_projection():
    from transformers import DPRConfig, DPRQuestionEncoder

    torch.manual_seed(0)
    dpr = DPRQuestionEncoder(DPRConfig(**TINY)).eval()
    packed = packed_model(dpr, "cpu", "fp32")
    assert packed is not None
    with torch.inference_mode():
        # an explicit mask: DPR would otherwise mask the pad id inside SEQS[2]
        want = [
            dpr(input_ids=torch.tensor([s]), attention_mask=torch.ones(1, len(s), dtype=int))
            .pooler_output[0]
            .numpy()
            for s in SEQS
        ]
        np.testing.assert_allclose(packed.embed(SEQS, "cls").numpy(), want, atol=2e-5)
    projected = DPRQuestionEncoder(DPRConfig(projection_dim=8, **TINY)).eval()
    assert packed_model(projected, "cpu", "fp32") is None


def test_encoder_gives_the_same_embeddings_with_and_without_packing(tmp_path):
    folder = make_tiny_bert(
        tmp_path / "tiny", sentence_transformers={"pooling": "mean", "normalize": True}
    )
    texts = ["hello world", "the cat sat on the mat", "a", "Paris is in France .", "b c"]
    spec = parse_model_arg(str(folder))
    packed = run(Encoder(spec, device="cpu", batch_size=2).encode(texts, "passage"))
    padded = run(Encoder(spec, device="cpu", batch_size=2, packed=False).encode(texts, "passage"))
    np.testing.assert_allclose(packed, padded, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(packed, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("layer", [-1, 0, 1, -2])
def test_token_states_equal_transformers_at_every_layer(tmp_path, layer):
    folder = make_tiny_bert(
        tmp_path / "tiny", sentence_transformers={"pooling": "mean", "prompts": {"query": "q: "}}
    )
    texts = ["hello world", "the cat sat on the mat", "Paris"]
    spec = parse_model_arg(str(folder))
    packed = run(Encoder(spec, device="cpu", batch_size=2).token_states(texts, "query", layer))
    padded = run(
        Encoder(spec, device="cpu", batch_size=2, packed=False).token_states(texts, "query", layer)
    )
    for p, q in zip(packed, padded, strict=True):
        assert (p.tokens, p.offsets, p.special) == (q.tokens, q.offsets, q.special)
        np.testing.assert_allclose(p.vectors, q.vectors, atol=2e-5)


def _softmax_attention(q, k, v):
    w = torch.softmax(q.float() @ k.float().transpose(1, 2), dim=-1)
    return w @ v.float()


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_bf16_attention_equals_softmax_attention(scale):
    """Without the row maximum while exp cannot overflow; scores past exp's range (scale 30
    puts many above 88, and rows wholly below -87) fall back to the softmax kernel."""
    from clirlens.core.models.packed import _attention_bf16

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(6, 17, 8, generator=g) for _ in range(3))
    q = q * scale
    scores = q @ k.transpose(1, 2)
    assert (scores.abs().max() > 88) == (scale > 1)
    q, k, v = (t.bfloat16() for t in (q, k, v))
    got = _attention_bf16(q, k, v)
    assert got.dtype == torch.bfloat16 and torch.isfinite(got).all()
    kernel = torch.bmm(torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1), v)
    if scale > 1:  # the fallback is the softmax kernel's result exactly
        assert torch.equal(got, kernel)
    else:  # as close to fp32 as the kernel's bf16 result is
        exact = _softmax_attention(q, k, v).numpy()
        err = np.abs(got.float().numpy() - exact).max()
        assert err < 1e-2 * np.abs(exact).max()
        assert err <= 2 * np.abs(kernel.float().numpy() - exact).max()
