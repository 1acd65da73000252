"""Sub-word pieces merged into words, keeping character offsets into the original text.

A word's vector is the mean of its pieces' hidden states, ``w = (1/k) sum_p h_p``; its
offsets run from its first piece's start to its last piece's end, and its label is that
span of the original text (not the pieces glued together, so ``"##"`` and ``"▁"`` markers
never show).

Word boundaries, in order of evidence:

1. characters between two pieces (``start > previous end``: a space, or a token dropped as
   special such as a bare SentencePiece ``"▁"``) always separate words;
2. the tokenizer's own marker, detected from the pieces:

   * **WordPiece** (BERT, mBERT, MiniLM): a piece starting with ``"##"`` continues the
     previous word; any other piece starts one, so punctuation split off by BERT's
     pre-tokenizer is a word of its own, and so is each CJK character (BERT splits them);
   * **SentencePiece** (XLM-R, mE5) and byte-level BPE (``"Ġ"``): a piece starting with
     ``"▁"`` / ``"Ġ"`` starts a word; other pieces continue it, so trailing punctuation
     stays attached (``"Paris,"``);
   * neither marker among the text's tokens (special ones included, so the bare ``"▁"`` of a
     SentencePiece model still counts): pieces are taken as words unless ``"##"`` glues
     them (the WordPiece rule); ``convention="offsets"`` asks for rule 1 alone instead.

For scripts written without spaces between words (Thai, Lao, Khmer, Burmese, Chinese and
Japanese under SentencePiece) the tokenizers above carry no word-boundary information, so a
"word" is a maximal run between whitespace: it can be a whole phrase or clause (Thai puts
spaces between phrases, not words). Word segmentation of those scripts needs a dictionary
segmenter and is deliberately not attempted here.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from clirlens.core.types import TokenStates

Convention = Literal["wordpiece", "sentencepiece", "offsets"]

_SP_MARKERS = ("\u2581", "\u0120")  # "▁" (SentencePiece), "Ġ" (byte-level BPE)


def detect_convention(tokens: tuple[str, ...] | list[str]) -> Convention:
    """Which sub-word marker the pieces use (see the module notes); pass all of a text's
    tokens, special ones included."""
    if any(t.startswith("##") and len(t) > 2 for t in tokens):
        return "wordpiece"
    if any(t.startswith(_SP_MARKERS) for t in tokens):
        return "sentencepiece"
    return "wordpiece"


def word_groups(
    tokens: tuple[str, ...] | list[str],
    offsets: tuple[tuple[int, int], ...] | list[tuple[int, int]],
    convention: Convention | None = None,
) -> list[list[int]]:
    """Indices of the pieces forming each word (pieces must be content tokens, in order)."""
    conv = convention or detect_convention(tokens)
    groups: list[list[int]] = []
    prev_end = None
    for i, (tok, (start, end)) in enumerate(zip(tokens, offsets, strict=True)):
        if prev_end is None or start > prev_end:
            new = True
        elif conv == "wordpiece":
            new = not tok.startswith("##")
        elif conv == "sentencepiece":
            new = tok.startswith(_SP_MARKERS)
        else:
            new = False
        if new or not groups:
            groups.append([i])
        else:
            groups[-1].append(i)
        prev_end = max(end, prev_end or 0)
    return groups


def merge_words(states: TokenStates, convention: Convention | None = None) -> TokenStates:
    """``states`` with special tokens removed and sub-word pieces merged into words.

    Returns a :class:`TokenStates` whose ``tokens`` are the words as spelled in the text,
    ``offsets`` their character spans, ``vectors`` the mean of their pieces' vectors.
    """
    content = states.content()
    if len(content) == 0:
        return content
    conv = convention or detect_convention(states.tokens)
    groups = word_groups(content.tokens, content.offsets, conv)
    offsets = tuple((content.offsets[g[0]][0], content.offsets[g[-1]][1]) for g in groups)
    words = tuple(states.text[s:e] for s, e in offsets)
    vectors = np.stack([content.vectors[g].mean(axis=0) for g in groups]).astype(np.float32)
    return TokenStates(
        text=states.text,
        tokens=words,
        offsets=offsets,
        special=tuple(False for _ in groups),
        vectors=vectors,
        model=states.model,
        layer=states.layer,
    )
