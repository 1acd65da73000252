"""The student being trained: a private copy of a multilingual encoder with gradients.

:meth:`Student.forward` runs a batch of low-resource texts (with the student's query prefix,
as it will be used for retrieval) and returns both what the losses need: the content token
states of the chosen layer, padded ``(B, n, H)`` with their mask (specials and prefix tokens
removed by the same rule as :meth:`Encoder.token_states`,
:func:`clirlens.core.models.encoder.is_content`), and the pooled retrieval embedding
``(B, H)`` by the student's pooling. :meth:`Student.embed` is the same embedding without
gradients, for held-out evaluation; once saved, the student gives the same embeddings
through :class:`~clirlens.core.models.encoder.Encoder` (tested).

Dropout stays off (the model is in eval mode while training): a run is then a function of
its seed and data order alone, which is what makes resuming after a kill reproduce an
uninterrupted run exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clirlens.core.models.encoder import is_content
from clirlens.core.models.loading import LoadedModel, load_copy
from clirlens.core.models.spec import ModelSpec


class Student:
    """A trainable copy of ``spec``'s model (see the module notes)."""

    def __init__(
        self, spec: ModelSpec, *, dtype: str = "fp32", freeze_embeddings: bool = True
    ) -> None:
        self.loaded: LoadedModel = load_copy(spec, "cpu", dtype)
        self.spec = self.loaded.resolved.spec
        self.model = self.loaded.model
        self.tokenizer = self.loaded.tokenizer
        self.dtype = dtype
        self.model.eval()  # no dropout: see the module notes
        if freeze_embeddings:
            self.model.get_input_embeddings().weight.requires_grad_(False)
        self.head: Any = None  # torch.nn.Linear after pooling (init_head)
        self.n_layers = int(self.model.config.num_hidden_layers)
        if self.loaded.head is not None:  # a saved student's head trains on
            self.init_head(self.loaded.head.weight.T, self.loaded.head.bias)

    def init_head(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Add a trainable projection head ``x W + b`` after pooling (``W`` ``(in, out)``,
        e.g. :func:`~clirlens.core.distill.linear.fit_ridge` on the bitext), applied to the
        unit pooled vector of a cosine model and to each unit last-layer token state
        (:mod:`clirlens.core.models.head`)."""
        import torch

        self.head = torch.nn.Linear(weight.shape[0], weight.shape[1])
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(np.asarray(weight, np.float32).T))
            self.head.bias.copy_(torch.from_numpy(np.asarray(bias, np.float32)))

    @property
    def out_size(self) -> int:
        """Width of the embeddings and (last-layer) token states the losses see."""
        return self.hidden_size if self.head is None else int(self.head.out_features)

    def named_trainable(self) -> dict[str, Any]:
        """The trainable tensors by name (the head's as ``head.weight``/``head.bias``)."""
        out = {k: v for k, v in self.model.named_parameters() if v.requires_grad}
        if self.head is not None:
            out.update({f"head.{k}": v for k, v in self.head.named_parameters()})
        return out

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    def parameters(self) -> list[Any]:
        return list(self.named_trainable().values())

    def _autocast(self):
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.dtype == "bf16")

    def _batch(self, texts: Sequence[str]):
        return self.tokenizer(
            [self.spec.query_prefix + t for t in texts],
            truncation=True,
            max_length=self.spec.max_length,
            padding=True,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            return_tensors="pt",
        )

    def _pool(self, hidden: Any, mask: Any) -> Any:
        hidden = hidden.float()
        if self.spec.pooling == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def _project(self, pooled: Any) -> Any:
        """The head on pooled vectors (unit first for a cosine model), else as they are."""
        import torch

        if self.head is None:
            return pooled
        if self.spec.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
        return self.head(pooled)

    def content_mask(self, enc: Any) -> Any:
        """``(B, L)`` true on the content tokens of each text."""
        import torch

        plen = len(self.spec.query_prefix)
        ids, offsets = enc["input_ids"], enc["offset_mapping"].tolist()
        special, attn = enc["special_tokens_mask"].tolist(), enc["attention_mask"].tolist()
        out = torch.zeros(ids.shape, dtype=torch.bool)
        for r in range(ids.shape[0]):
            tokens = self.tokenizer.convert_ids_to_tokens(ids[r].tolist())
            for c, (tok, (s, e), sp, on) in enumerate(
                zip(tokens, offsets[r], special[r], attn[r], strict=True)
            ):
                out[r, c] = bool(on) and is_content(tok, s, e, bool(sp), plen)
        return out

    def forward(self, texts: Sequence[str], layer: int = -1) -> tuple[Any, Any, Any]:
        """``(content states (B, n, H), their mask (B, n), pooled embeddings (B, H))``,
        differentiable (module notes)."""
        import torch

        enc = self._batch(texts)
        keep = self.content_mask(enc)
        with self._autocast():
            out = self.model(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                output_hidden_states=True,
            )
        hidden = out.hidden_states[layer].float()
        pooled = self._project(self._pool(out.last_hidden_state, enc["attention_mask"]))
        if self.head is not None and layer in (-1, self.n_layers):
            hidden = self.head(torch.nn.functional.normalize(hidden, p=2, dim=-1))
        n = int(keep.sum(1).max())
        states = hidden.new_zeros((len(texts), n, hidden.shape[-1]))
        mask = torch.zeros((len(texts), n), dtype=torch.bool)
        for r in range(len(texts)):
            rows = hidden[r][keep[r]]
            states[r, : len(rows)] = rows
            mask[r, : len(rows)] = True
        return states, mask, pooled

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Retrieval embeddings of ``texts`` as queries (normalised for cosine models)."""
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                enc = self._batch(texts[start : start + batch_size])
                with self._autocast():
                    hidden = self.model(
                        input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]
                    ).last_hidden_state
                pooled = self._project(self._pool(hidden, enc["attention_mask"]))
                if self.spec.normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
                out.append(pooled.float().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.out_size), np.float32)

    def states(self, texts: Sequence[str], layer: int = -1, batch_size: int = 64):
        """Content token states without gradients: ``[(n_k, H) arrays]`` per text."""
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                states, mask, _ = self.forward(texts[start : start + batch_size], layer)
                out += [states[r][mask[r]].numpy() for r in range(len(mask))]
        return out
