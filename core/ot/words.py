"""A model's sub-word pieces gathered into the text's words (:mod:`~clirlens.core.text.segment`).

The words come from the text, not from the tokenizer, so every model shows the same words
for the same text and two models' word-level plans can be compared cell by cell.

A word's vector is the mean of the hidden states of the pieces overlapping its characters,
``w = (1/k) sum_p h_p``; a piece that straddles a word boundary (a SentencePiece piece over
two Thai words, say) counts towards both. Its offsets are the word's span and its label that
span of the original text, so ``"##"`` and ``"▁"`` markers never show. A word no piece covers
(the text was cut at the model's maximum length) is left out.
"""

from __future__ import annotations

import numpy as np

from clirlens.core.text.segment import words as text_words
from clirlens.core.types import TokenStates


def word_members(
    spans: tuple[tuple[int, int], ...], offsets: tuple[tuple[int, int], ...]
) -> np.ndarray:
    """Boolean ``(pieces, words)`` matrix: piece ``p`` overlaps word ``w``'s characters."""
    if not spans or not offsets:
        return np.zeros((len(offsets), len(spans)), dtype=bool)
    p = np.asarray(offsets, dtype=np.int64)
    w = np.asarray(spans, dtype=np.int64)
    return (p[:, :1] < w[None, :, 1]) & (p[:, 1:] > w[None, :, 0])


def merge_words(states: TokenStates) -> TokenStates:
    """``states`` with special tokens removed and the pieces gathered into the text's words.

    Returns a :class:`TokenStates` whose ``tokens`` are the words as spelled in the text,
    ``offsets`` their character spans, ``vectors`` the mean of their pieces' vectors.
    """
    content = states.content()
    spans = text_words(states.text)
    members = word_members(spans, content.offsets)
    counts = members.sum(axis=0)
    keep = np.flatnonzero(counts)
    if len(content) == 0 or keep.size == 0:
        return content
    members = members[:, keep]
    vectors = (members.T.astype(np.float64) @ content.vectors) / counts[keep, None]
    offsets = tuple(spans[i] for i in keep)
    return TokenStates(
        text=states.text,
        tokens=tuple(states.text[s:e] for s, e in offsets),
        offsets=offsets,
        special=tuple(False for _ in offsets),
        vectors=vectors.astype(np.float32),
        model=states.model,
        layer=states.layer,
    )
