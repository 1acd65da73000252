"""Tiny random transformer models written to a folder, for unit tests of the real loading
path (AutoTokenizer/AutoModel from a local directory, safetensors)."""

from __future__ import annotations

import json
from pathlib import Path

WORDS = [
    "hello",
    "world",
    "Hello",
    "World",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "query",
    ":",
    "passage",
    "dog",
    "ran",
    "far",
    "##s",
    "##ing",
    "a",
    "b",
    "c",
    "Paris",
    "paris",
    "France",
    "france",
    "is",
    "in",
    "capital",
    "of",
    "what",
    "?",
    ".",
]


def make_tiny_bert(
    folder: Path,
    *,
    seed: int = 0,
    tokenizer_class: str | None = None,
    do_lower_case: bool = False,
    sentence_transformers: dict | None = None,
    max_position: int = 64,
) -> Path:
    """A 2-layer BERT (hidden 32) with a WordPiece vocabulary of :data:`WORDS`.

    ``sentence_transformers``: when given, writes a sentence-transformers layout, e.g.
    ``{"pooling": "cls", "normalize": True, "max_seq_length": 16,
    "prompts": {"query": "q: "}}``.
    """
    import torch
    from transformers import BertConfig, BertModel

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok_cfg = {
        "do_lower_case": do_lower_case,
        "model_max_length": max_position,
        "tokenizer_class": tokenizer_class or "BertTokenizer",
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_position,
    )
    BertModel(config).eval().save_pretrained(folder, safe_serialization=True)
    if sentence_transformers is not None:
        st = sentence_transformers
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
        ]
        if st.get("normalize"):
            modules.append(
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                }
            )
        (folder / "modules.json").write_text(json.dumps(modules))
        (folder / "1_Pooling").mkdir(exist_ok=True)
        pooling = st.get("pooling", "mean")
        (folder / "1_Pooling" / "config.json").write_text(
            json.dumps(
                {
                    "word_embedding_dimension": 32,
                    "pooling_mode_cls_token": pooling == "cls",
                    "pooling_mode_mean_tokens": pooling == "mean",
                    "pooling_mode_max_tokens": False,
                }
            )
        )
        (folder / "sentence_bert_config.json").write_text(
            json.dumps(
                {"max_seq_length": st.get("max_seq_length", max_position), "do_lower_case": False}
            )
        )
        if st.get("prompts"):
            (folder / "config_sentence_transformers.json").write_text(
                json.dumps({"prompts": st["prompts"], "default_prompt_name": None})
            )
    return folder


def tiny_with_hidden(folder, hidden: int):
    """A tiny BERT like ``make_tiny_bert``'s, with another hidden size."""
    from transformers import BertConfig, BertModel

    make_tiny_bert(folder, seed=9)
    config = BertConfig.from_pretrained(folder)
    config.hidden_size, config.intermediate_size = hidden, 2 * hidden
    BertModel(config).eval().save_pretrained(folder, safe_serialization=True)
    return folder
