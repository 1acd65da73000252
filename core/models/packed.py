"""Padding-free ("packed") forward pass for BERT-family encoders on the CPU.

Why (measured by ``benchmarks/bench_encoder.py``; figures in the README): even
length-sorted batches padded to their own longest text spend a large share of the linear
layers' and the attention's work on pad tokens, and the CPU's fused attention kernel runs
bf16 slower than fp32 for 32-wide heads. This path therefore

- concatenates the batch's texts into one ``(tokens, hidden)`` matrix, so every linear layer
  multiplies real tokens only (no pad rows);
- runs attention per text (texts of equal length together), unmasked: in fp32 with the
  fused ``scaled_dot_product_attention`` kernel, in bf16 as two batched products around an
  in-place ``exp``;
- in bf16, multiplies with oneDNN weights packed once (``mkldnn._linear_pointwise``,
  measured faster than ``F.linear`` on bf16 weights, where this CPU runs it: see
  :func:`bf16_is_native`), the query/key/value projections fused
  into one product; the residual stream is bf16 too, layer norm statistics fp32.

The arithmetic is the model's own (BertModel / XLMRobertaModel: post-norm layers, absolute
positions, the model's activation); the embeddings equal transformers' forward pass to
float rounding in fp32 (tested). Models outside that family, or on another device, return
``None`` from :func:`packed_model` and run through transformers.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clirlens.core.errors import ModelError

# model types whose encoder is BERT's post-norm stack with absolute positions
_FAMILY = {"bert": "bert", "roberta": "roberta", "xlm-roberta": "roberta", "camembert": "roberta"}


@dataclass
class _Layer:
    qkv: Any  # fused query/key/value weight (packed or plain)
    qkv_bias: Any
    out: Any
    out_bias: Any
    ln1: Any  # nn.LayerNorm after attention
    up: Any
    up_bias: Any
    act: Any  # the model's activation module
    down: Any
    down_bias: Any
    ln2: Any


class PackedModel:
    """A BERT-family backbone run on concatenated (unpadded) token sequences."""

    def __init__(self, backbone: Any, family: str, dtype: str) -> None:
        import torch

        self.backbone = backbone
        self.family = family
        self.dtype = dtype
        cfg = backbone.config
        self.heads = int(cfg.num_attention_heads)
        self.head_dim = int(cfg.hidden_size) // self.heads
        self.pad_id = int(cfg.pad_token_id if cfg.pad_token_id is not None else 0)
        self._packed_linear = dtype == "bf16" and _onednn_linear_available()
        # the exact (erf) GELU is a oneDNN post-op of the up-projection: one pass less
        self._fused_gelu = self._packed_linear and getattr(cfg, "hidden_act", None) == "gelu"
        with torch.no_grad():
            self.layers = [self._convert(layer) for layer in backbone.encoder.layer]

    # -- weights ------------------------------------------------------------------------------
    def _weight(self, w: Any, b: Any) -> tuple[Any, Any]:
        import torch

        w = w.detach()
        b = None if b is None else b.detach()
        if self.dtype != "bf16":
            return w, b
        w, b = w.to(torch.bfloat16), None if b is None else b.to(torch.bfloat16)
        if self._packed_linear:
            w = torch.ops.mkldnn._reorder_linear_weight(w, None)
        return w, b

    def _convert(self, layer: Any) -> _Layer:
        import torch

        sa = layer.attention.self
        qkv_w = torch.cat([sa.query.weight, sa.key.weight, sa.value.weight])
        qkv_b = torch.cat([sa.query.bias, sa.key.bias, sa.value.bias])
        if self.dtype == "bf16":
            # bf16 attention (see _attention) takes queries already scaled by 1/sqrt(d):
            # scaled here once, before rounding to bf16, instead of once per call
            rows = self.heads * self.head_dim
            qkv_w[:rows] *= self.head_dim**-0.5
            qkv_b[:rows] *= self.head_dim**-0.5
        qkv, qkv_bias = self._weight(qkv_w, qkv_b)
        out, out_bias = self._weight(
            layer.attention.output.dense.weight, layer.attention.output.dense.bias
        )
        up, up_bias = self._weight(layer.intermediate.dense.weight, layer.intermediate.dense.bias)
        down, down_bias = self._weight(layer.output.dense.weight, layer.output.dense.bias)
        return _Layer(
            qkv,
            qkv_bias,
            out,
            out_bias,
            layer.attention.output.LayerNorm,
            up,
            up_bias,
            layer.intermediate.intermediate_act_fn,
            down,
            down_bias,
            layer.output.LayerNorm,
        )

    def _linear(self, x: Any, w: Any, b: Any) -> Any:
        import torch

        if self._packed_linear:
            return torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")
        return torch.nn.functional.linear(x, w, b)

    # -- forward ------------------------------------------------------------------------------
    def hidden_states(
        self, seqs: Sequence[Sequence[int]], layers: int | None = None
    ) -> tuple[Any, np.ndarray]:
        """Hidden states after the first ``layers`` layers (default all: the last hidden
        states; 0: the embeddings) of all tokens of ``seqs`` concatenated, shape
        ``(sum(len), hidden)`` in fp32, and the start offsets of each text (``len+1``)."""
        import torch

        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        if (lengths == 0).any():
            raise ModelError(
                f"text {int(np.argmax(lengths == 0))} of the batch has no tokens to encode "
                "(an empty text, and a tokenizer that adds no special tokens)"
            )
        starts = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        ids = torch.from_numpy(np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]))
        groups = _equal_length_runs(lengths, starts)
        # bf16: the residual stream too (layer norms compute their statistics in fp32 and
        # keep the fp32 weights): measured faster end to end than an fp32 stream with the
        # same R@1 on XQuAD (a test holds the embeddings within cosine 0.9999 of fp32)
        low = torch.bfloat16 if self.dtype == "bf16" else torch.float32
        x = self._embed(ids, lengths, starts).to(low)
        for layer in self.layers[:layers]:  # None: all
            qkv = self._linear(x, layer.qkv, layer.qkv_bias)
            ctx = self._attention(qkv, groups)
            x = layer.ln1(torch.add(x, self._linear(ctx, layer.out, layer.out_bias)))
            if self._fused_gelu:
                h = torch.ops.mkldnn._linear_pointwise(
                    x, layer.up, layer.up_bias, "gelu", [], "none"
                )
            else:
                h = layer.act(self._linear(x, layer.up, layer.up_bias))
            x = layer.ln2(torch.add(x, self._linear(h, layer.down, layer.down_bias)))
        return x.float(), starts

    def _embed(self, ids: Any, lengths: np.ndarray, starts: np.ndarray) -> Any:
        import torch

        emb = self.backbone.embeddings
        if self.family == "roberta":
            # fairseq positions: pad_id + 1 + (non-pad tokens so far in the text); a pad token
            # keeps pad_id (transformers' create_position_ids_from_input_ids, per text)
            nonpad = ids.ne(self.pad_id).long()
            seen = torch.cat([nonpad.new_zeros(1), torch.cumsum(nonpad, 0)])
            before = torch.repeat_interleave(
                seen[torch.from_numpy(starts[:-1])], torch.from_numpy(lengths)
            )
            positions = (seen[1:] - before) * nonpad + self.pad_id
        else:  # 0, 1, 2, ... within each text
            positions = torch.from_numpy(
                np.arange(int(starts[-1])) - np.repeat(starts[:-1], lengths)
            )
        x = emb.word_embeddings(ids) + emb.position_embeddings(positions)
        if getattr(emb, "token_type_embeddings", None) is not None:
            x = x + emb.token_type_embeddings.weight[0]
        return emb.LayerNorm(x)

    def _attention(self, qkv: Any, groups: list[tuple[int, int, int]]) -> Any:
        """Unmasked attention within each text; ``groups`` are runs of texts of one length.

        fp32: the fused ``scaled_dot_product_attention`` kernel. bf16: two batched bf16
        products around an exponential (:func:`_attention_bf16`), measured faster than the
        fused kernel in either precision except for very short texts, where the difference
        is too small to switch kernels on (a length switch measured slower end to end)."""
        import torch
        from torch.nn.functional import scaled_dot_product_attention as sdpa

        h, d = self.heads, self.head_dim
        low = self.dtype == "bf16"
        ctx = torch.empty((qkv.shape[0], h * d), dtype=qkv.dtype)
        for start, count, length in _chunks(groups, h):
            end = start + count * length
            block = qkv[start:end].view(count, length, 3, h, d).permute(2, 0, 3, 1, 4)
            if low:
                # one copy into head-major order; q is pre-scaled by 1/sqrt(d) (_convert)
                q, k, v = block.reshape(3, count * h, length, d)
                out = _attention_bf16(q, k, v).view(count, h, length, d)
            else:
                out = sdpa(block[0], block[1], block[2])  # (count, heads, length, head_dim)
            ctx[start:end].view(count, length, h, d).copy_(out.permute(0, 2, 1, 3))
        return ctx

    def embed(self, seqs: Sequence[Sequence[int]], pooling: str) -> Any:
        """Pooled (not yet normalised) sentence embeddings, fp32, one row per sequence."""
        import torch

        x, starts = self.hidden_states(seqs)
        if pooling == "cls":
            return x[torch.from_numpy(starts[:-1])]
        lengths = torch.from_numpy(np.diff(starts))
        owner = torch.repeat_interleave(torch.arange(len(seqs)), lengths)
        sums = torch.zeros((len(seqs), x.shape[1]), dtype=x.dtype).index_add_(0, owner, x)
        return sums / lengths.unsqueeze(1).to(x.dtype)


def _attention_bf16(q: Any, k: Any, v: Any) -> Any:
    """``softmax(q k^T) v`` for bf16 ``(batch, length, head_dim)`` inputs, q pre-scaled.

    The row maximum is not subtracted: ``exp`` runs in place on the scores and the rows are
    normalised after the second product, on ``length / head_dim`` times fewer numbers. That
    replaces the softmax kernel's three passes over the scores by one (measured faster end
    to end on XQuAD paragraphs). Without the maximum, a score above ~88 overflows and a row of
    scores all below ~-87 underflows; both show in the row sums, and such a block is recomputed
    with the softmax kernel."""
    import torch

    e = torch.bmm(q, k.transpose(1, 2)).exp_()
    z = e.sum(-1, keepdim=True)
    lo, hi = torch.aminmax(z)
    if float(lo) > 0.0 and float(hi) < float("inf"):
        return torch.bmm(e, v).div_(z)
    return torch.bmm(torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1), v)


def _equal_length_runs(lengths: np.ndarray, starts: np.ndarray) -> list[tuple[int, int, int]]:
    """``(token start, number of texts, length)`` for each run of consecutive equal lengths."""
    runs: list[tuple[int, int, int]] = []
    first = 0
    for length, run in itertools.groupby(lengths.tolist()):
        count = len(list(run))
        runs.append((int(starts[first]), count, length))
        first += count
    return runs


def _onednn_linear_available() -> bool:
    """oneDNN's packed-weight bf16 linear ops (private to torch, used by its inductor
    backend): present in the CPU builds clirlens pins, but they run only on CPUs with
    AVX512 (BW/VL/DQ) or AVX-NE-CONVERT; elsewhere (e.g. AMD Zen 3) reordering a weight
    raises. Plain ``F.linear`` on bf16 weights otherwise."""
    import torch

    return torch.backends.mkldnn.is_available() and bf16_is_native()


@functools.cache
def bf16_is_native() -> bool:
    """oneDNN's packed-weight bf16 ops exist and run on this CPU (probed once on a tiny
    weight). Where they do not, bf16 products are emulated and run slower than fp32."""
    import torch

    try:
        weight = torch.ops.mkldnn._reorder_linear_weight(
            torch.zeros(8, 8, dtype=torch.bfloat16), None
        )
        torch.ops.mkldnn._linear_pointwise(
            torch.zeros(2, 8, dtype=torch.bfloat16), weight, None, "none", [], ""
        )
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


def _chunks(
    groups: list[tuple[int, int, int]], heads: int, budget: int = 1 << 24
) -> list[tuple[int, int, int]]:
    """``groups`` cut so that no attention call holds more than ``budget`` scores
    (``count * heads * length**2``; 2**24 bf16 scores are 32 MB)."""
    out = []
    for start, count, length in groups:
        step = max(1, budget // (heads * length * length))
        for first in range(0, count, step):
            n = min(step, count - first)
            out.append((start + first * length, n, length))
    return out


def _backbone(model: Any) -> tuple[Any, str] | None:
    """The BERT-family backbone inside a loaded transformers model, with its family."""
    cfg = getattr(model, "config", None)
    kind = getattr(cfg, "model_type", None)
    if kind == "dpr":  # its BERT, checked as any other; a projection is not supported
        if int(getattr(cfg, "projection_dim", 0) or 0) != 0:
            return None
        inner = getattr(model, "question_encoder", None) or getattr(model, "ctx_encoder", None)
        model, family = getattr(inner, "bert_model", None), "bert"
    else:
        family = _FAMILY.get(kind or "")
    if family is None or not hasattr(model, "encoder") or not hasattr(model, "embeddings"):
        return None
    if getattr(cfg, "position_embedding_type", "absolute") not in (None, "absolute"):
        return None
    if getattr(cfg, "is_decoder", False) or getattr(cfg, "add_cross_attention", False):
        return None
    return model, family


_CACHE: weakref.WeakKeyDictionary[Any, dict[str, PackedModel]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def packed_model(model: Any, device: str, dtype: str) -> PackedModel | None:
    """The packed runner for ``model`` (built once per model and dtype), or ``None`` when the
    model is not a supported BERT-family encoder on the CPU."""
    if not device.startswith("cpu"):
        return None
    found = _backbone(model)
    if found is None:
        return None
    backbone, family = found
    with _LOCK:
        per_model = _CACHE.setdefault(backbone, {})
        if dtype not in per_model:
            per_model[dtype] = PackedModel(backbone, family, dtype)
        return per_model[dtype]
