"""Sentence embeddings and token states from a transformer encoder.

Texts are tokenised once, sorted by length and cut into batches; the forward pass runs
under ``torch.inference_mode``. On the CPU, BERT-family models (BERT, XLM-R, RoBERTa, DPR's
BERT) run the padding-free forward pass of :mod:`clirlens.core.models.packed`: a batch's
texts are concatenated, so no work goes to pad tokens, and bf16 products use oneDNN weights
packed once. Token states (OT) use it too, running only the layers up to the one asked for.
``packed=False`` (or another model or device) runs transformers' forward on padded
batches, bf16 under ``torch.autocast`` with fp32 weights. Speed and accuracy against
sentence-transformers are measured by ``benchmarks/bench_encoder.py`` (figures in the
README).

``dtype="bf16"``: matrix products, attention weights and the residual stream in bfloat16
(products accumulated in fp32); layer norm statistics and pooling in fp32. The fp32 weights
are shared with fp32 encoders of the same model; the packed path keeps its own bf16 copy of
the layer weights.

Pooling (docs/architecture.md, models): ``cls`` takes the first token's last hidden state; ``mean`` averages
the last hidden states over the attention mask, ``sum_i m_i h_i / sum_i m_i``. With
``similarity="cosine"`` embeddings are L2-normalised, so inner product is cosine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clirlens.core.errors import ModelError
from clirlens.core.models.head import read_head
from clirlens.core.models.loading import LoadedModel, ResolvedModel, load, resolve
from clirlens.core.models.spec import ModelSpec, Role
from clirlens.core.models.tokcache import tokenizer_lock
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Passage, Progress, TokenStates

TOKENIZE_CHUNK = 1024  # texts per tokenizer call


def is_content(token: str, start: int, end: int, special: bool, prefix_len: int) -> bool:
    """Whether a token is content of the text: not a special token, not part of the model's
    prefix (its characters end at or before ``prefix_len``), and not a bare SentencePiece
    word marker ``"▁"`` (no characters of its own: its offsets overlap the next token's)."""
    return not (special or end <= prefix_len or end == start or token == "\u2581")


class Encoder:
    """One dense retriever, loaded on first use (heavy imports are lazy)."""

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        dtype: str = "fp32",
        batch_size: int = 32,
        packed: bool = True,
        memo_dir: Path | None = None,
    ) -> None:
        if spec.kind != "dense":
            raise ModelError(f"model {spec.name!r} is not a dense encoder")
        self.requested = spec
        self.device_request = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.packed = packed
        self.memo_dir = memo_dir  # where the weight-hash memo lives (the cache's folder)
        self._loaded: LoadedModel | None = None
        self._resolved: ResolvedModel | None = None
        self._head_digest: str | None = None  # a projection head's weights ("" none)

    # -- loading and identity -------------------------------------------------------------
    @property
    def loaded(self) -> LoadedModel:
        if self._loaded is None:
            self._loaded = load(self.requested, self.device_request, self.dtype, self.memo_dir)
        return self._loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    @property
    def resolved(self) -> ResolvedModel:
        """The model's files and identity, found without loading the weights (so a warm
        run that finds everything in the cache never loads the model)."""
        if self._loaded is not None:
            return self._loaded.resolved
        if self._resolved is None:
            self._resolved = resolve(self.requested, self.memo_dir)
        return self._resolved

    @property
    def spec(self) -> ModelSpec:
        """The spec with conventions completed from the model folder."""
        return self.resolved.spec

    @property
    def name(self) -> str:
        return self.requested.name

    @property
    def hidden_size(self) -> int:
        if self._loaded is not None:
            return int(self._loaded.model.config.hidden_size)
        config = json.loads((self.resolved.path / "config.json").read_text(encoding="utf-8"))
        return int(config.get("hidden_size") or config["dim"])

    @property
    def num_layers(self) -> int:
        """Transformer layers of the model (hidden states 0 … num_layers), read from its
        config without loading the weights."""
        if self._loaded is not None:
            return int(self._loaded.model.config.num_hidden_layers)
        config = json.loads((self.resolved.path / "config.json").read_text(encoding="utf-8"))
        return int(config.get("num_hidden_layers") or config.get("n_layers") or 0)

    def fingerprint(self) -> str:
        """Identity of the embeddings this encoder produces: weights (hub revision or
        weight-file hash), conventions and dtype. Keys the embedding cache."""
        r = self.resolved
        payload = {
            "source": r.spec.source,
            "revision": r.revision,
            "conventions": r.spec.conventions(),
            "dtype": self.dtype,
            # 2: sentence embeddings from the padding-free forward pass (core/models/packed.py),
            # which rounds differently from transformers' padded one in bf16; 3 (bf16 only):
            # its attention normalises after the second product (packed._attention_bf16) and
            # its residual stream is bf16
            "v": 3 if self.dtype == "bf16" else 2,
        }
        if self._head_digest is None:  # read once: fingerprint() is on hot paths
            head = self._loaded.head if self._loaded is not None else read_head(r.path)
            self._head_digest = head.digest if head is not None else ""
        if self._head_digest:
            payload["head"] = self._head_digest
        if not self.packed:  # transformers' padded forward rounds differently in bf16
            payload["forward"] = "transformers"
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]

    def describe(self) -> dict[str, Any]:
        r = self.resolved
        conventions = r.spec.conventions()
        conventions.pop("revision")  # the requested one; the resolved one is recorded below
        return {
            "name": self.name,
            "source": r.spec.source,
            "path": str(r.path),
            "revision": r.revision,
            "requested_revision": r.spec.revision,
            "dtype": self.dtype,
            "device": self._device_used(),
            "forward": self._forward_used(),
            **conventions,
            "preset": r.spec.preset,
            "conventions_from": {k: origin for k, _, origin in r.spec.describe_conventions()},
        }

    def _forward_used(self) -> str:
        """Which forward pass made this run's embeddings: ``"packed"`` (core/models/packed.py),
        ``"transformers"``, or, when the model was never loaded, a note saying so."""
        if self._loaded is None:
            return "not run (every embedding came from the cache)"
        return "packed" if self._packed_model() is not None else "transformers"

    def _device_used(self) -> str:
        """The device the model ran on; a run served wholly from the cache never loaded it
        (and never imports torch just to say so)."""
        if self._loaded is not None:
            return self._loaded.device
        return f"{self.device_request} (not loaded: every embedding came from the cache)"

    # -- text formatting --------------------------------------------------------------------
    def passage_text(self, passage: Passage) -> str:
        """A passage as this model reads it: ``title + title_join + text`` when the model
        uses titles and the passage has one, else the text."""
        join = self.spec.title_join
        if join is not None and passage.title:
            return passage.title + join + passage.text
        return passage.text

    # -- sentence embeddings ------------------------------------------------------------------
    def encode(self, texts: Sequence[str], role: Role) -> Job[np.ndarray]:
        """Embeddings of ``texts`` (float32, shape ``(len(texts), hidden)``), in input order.
        A generator: yields :class:`Progress`, returns the array."""
        import torch

        lm = self.loaded
        spec = self.spec
        n = len(texts)
        width = self.hidden_size if lm.head is None else lm.head.weight.shape[0]
        out = np.zeros((n, width), dtype=np.float32)
        if n == 0:
            return out
        ids = self._tokenize([spec.prefix(role) + t for t in texts])
        order = np.argsort([-len(x) for x in ids], kind="stable")
        throttle = Throttle(0.25)
        yield Progress(
            0, n, f"encoding {'queries' if role == 'query' else 'passages'} with {self.name}"
        )
        packed = self._packed_model()
        with torch.inference_mode(), self._autocast(enabled=packed is None):
            for start in range(0, n, self.batch_size):
                batch = order[start : start + self.batch_size]
                if packed is not None:
                    pooled = packed.embed([ids[i] for i in batch], spec.pooling)
                else:
                    input_ids, mask = self._pad([ids[i] for i in batch])
                    hidden = lm.model(
                        input_ids=input_ids.to(lm.device), attention_mask=mask.to(lm.device)
                    ).last_hidden_state
                    pooled = self._pool(hidden, mask.to(lm.device))
                pooled = pooled.float()
                if lm.head is not None:
                    pooled = torch.from_numpy(lm.head.apply(pooled.cpu().numpy()))
                if spec.normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=-1)
                out[batch] = pooled.cpu().numpy()
                done = min(start + self.batch_size, n)
                if throttle() or done == n:
                    yield Progress(
                        done,
                        n,
                        f"encoding {'queries' if role == 'query' else 'passages'} with {self.name}",
                    )
        return out

    def encode_passages(self, passages: Sequence[Passage]) -> Job[np.ndarray]:
        return (yield from self.encode([self.passage_text(p) for p in passages], "passage"))

    def _autocast(self, enabled: bool = True):
        import torch

        device = self.loaded.device.split(":")[0]
        return torch.autocast(
            device_type=device, dtype=torch.bfloat16, enabled=enabled and self.dtype == "bf16"
        )

    def _packed_model(self):
        """The padding-free forward pass (``core/models/packed.py``) when this model and device
        support it and ``packed`` was not turned off; else ``None`` (transformers' forward)."""
        if not self.packed:
            return None
        from clirlens.core.models.packed import packed_model

        lm = self.loaded
        return packed_model(lm.model, lm.device, self.dtype)

    def _tokenize(self, texts: list[str]) -> list[np.ndarray]:
        """Token ids of ``texts``, tokenised :data:`TOKENIZE_CHUNK` at a time, each text's ids
        kept as an int32 array: a list of Python ints costs about nine times more, and the
        tokenizer's per-text records (tokens, offsets, overflow) are freed chunk by chunk —
        together they were most of an encoding job's memory on long passages."""
        out: list[np.ndarray] = []
        tok = self.loaded.tokenizer
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            with tokenizer_lock(tok):  # shared with encoders of the same tokenizer files
                enc = tok(
                    texts[start : start + TOKENIZE_CHUNK],
                    truncation=True,
                    max_length=self.spec.max_length,
                    padding=False,
                    return_attention_mask=False,
                )
            out += [np.asarray(x, dtype=np.int32) for x in enc["input_ids"]]
        return out

    def _pad(self, seqs: list[list[int]]):
        import torch

        pad_id = self.loaded.tokenizer.pad_token_id or 0
        width = max(len(s) for s in seqs)
        ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for row, s in enumerate(seqs):
            ids[row, : len(s)] = s
            mask[row, : len(s)] = 1
        return torch.from_numpy(ids), torch.from_numpy(mask)

    def _pool(self, hidden, mask):
        hidden = hidden.float()
        if self.spec.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return pooled

    # -- token states (for OT) ---------------------------------------------------------------
    def token_states(
        self, texts: Sequence[str], role: Role = "query", layer: int = -1
    ) -> Job[list[TokenStates]]:
        """Per-token hidden states of ``layer`` (``-1``: last; ``0``: embeddings) for each
        text, with character offsets into the original text. The model's prefix is encoded
        (the model was trained with it) but its tokens are marked ``special``."""
        import torch

        lm = self.loaded
        tok = lm.tokenizer
        if not getattr(tok, "is_fast", False):
            raise ModelError(f"model {self.name!r}: token offsets need a fast tokenizer")
        n_layers = int(lm.model.config.num_hidden_layers)
        if not -(n_layers + 1) <= layer <= n_layers:
            raise ModelError(
                f"layer {layer} is out of range for {self.name!r} "
                f"({n_layers} layers: use -{n_layers + 1}..{n_layers})"
            )
        prefix = self.spec.prefix(role)
        results: list[TokenStates | None] = [None] * len(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        throttle = Throttle(0.25)
        yield Progress(0, len(texts), f"token states with {self.name}")
        packed = self._packed_model()
        depth = layer if layer >= 0 else n_layers + 1 + layer  # layers to run (0: embeddings)
        with torch.inference_mode(), self._autocast(enabled=packed is None):
            for start in range(0, len(texts), self.batch_size):
                batch = [int(i) for i in order[start : start + self.batch_size]]
                with tokenizer_lock(tok):
                    enc = tok(
                        [prefix + texts[i] for i in batch],
                        truncation=True,
                        max_length=self.spec.max_length,
                        padding=True,
                        return_offsets_mapping=True,
                        return_special_tokens_mask=True,
                        return_tensors="pt",
                    )
                if packed is not None:
                    lengths = enc["attention_mask"].sum(1).tolist()
                    seqs = [enc["input_ids"][r, :n].tolist() for r, n in enumerate(lengths)]
                    flat, starts = packed.hidden_states(seqs, layers=depth)
                    flat = flat.numpy()
                    states = [flat[starts[r] : starts[r + 1]] for r in range(len(seqs))]
                else:
                    outputs = lm.model(
                        input_ids=enc["input_ids"].to(lm.device),
                        attention_mask=enc["attention_mask"].to(lm.device),
                        output_hidden_states=True,
                    )
                    states = outputs.hidden_states[layer].float().cpu().numpy()
                if lm.head is not None and depth == n_layers:  # what the head was trained on
                    states = [lm.head.apply(st, unit=True) for st in states]
                for row, i in enumerate(batch):
                    results[i] = self._token_record(texts[i], prefix, enc, row, states[row], layer)
                done = min(start + self.batch_size, len(texts))
                if throttle() or done == len(texts):
                    yield Progress(done, len(texts), f"token states with {self.name}")
        return [r for r in results if r is not None]

    def _token_record(
        self, text: str, prefix: str, enc: Any, row: int, states: np.ndarray, layer: int
    ) -> TokenStates:
        length = int(enc["attention_mask"][row].sum())
        ids = enc["input_ids"][row][:length].tolist()
        with tokenizer_lock(self.loaded.tokenizer):
            tokens = tuple(self.loaded.tokenizer.convert_ids_to_tokens(ids))
        offsets, special = [], []
        plen = len(prefix)
        for tok, (s, e), sp in zip(
            tokens,
            enc["offset_mapping"][row][:length].tolist(),
            enc["special_tokens_mask"][row][:length].tolist(),
            strict=True,
        ):
            if not is_content(tok, s, e, sp, plen):
                offsets.append((0, 0))
                special.append(True)
            else:
                offsets.append((max(s - plen, 0), e - plen))
                special.append(False)
        return TokenStates(
            text=text,
            tokens=tokens,
            offsets=tuple(offsets),
            special=tuple(special),
            vectors=states[:length].copy(),
            model=self.name,
            layer=layer,
        )
