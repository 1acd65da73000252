"""Sub-word pieces merged into words, with character offsets into the original text."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.ot.words import detect_convention, merge_words
from clirlens.core.progress import run
from clirlens.core.types import TokenStates

from ..tiny_models import make_tiny_bert


def make(text, pieces, special=None, dim=4):
    """TokenStates from (token, start, end) triples; vector k is k * ones."""
    tokens = tuple(p[0] for p in pieces)
    offsets = tuple((p[1], p[2]) for p in pieces)
    special = special or tuple(t in ("<s>", "</s>", "[CLS]", "[SEP]", "\u2581") for t in tokens)
    vectors = np.arange(len(pieces), dtype=np.float32)[:, None] * np.ones((1, dim), np.float32)
    return TokenStates(text, tokens, offsets, tuple(special), vectors, "m", -1)


def spans(st):
    return [(t, st.text[s:e]) for t, (s, e) in zip(st.tokens, st.offsets, strict=True)]


def test_sentencepiece_pieces_merge_and_punctuation_stays_attached():
    text = "Wie viele Punkte, Panthers?"
    st = make(
        text,
        [
            ("<s>", 0, 0),
            ("\u2581Wie", 0, 3),
            ("\u2581viele", 4, 9),
            ("\u2581Punkte", 10, 16),
            (",", 16, 17),
            ("\u2581Pan", 18, 21),
            ("ther", 21, 25),
            ("s", 25, 26),
            ("?", 26, 27),
            ("</s>", 0, 0),
        ],
    )
    words = merge_words(st)
    assert words.tokens == ("Wie", "viele", "Punkte,", "Panthers?")
    assert spans(words) == [(w, w) for w in words.tokens]
    assert not any(words.special)
    # vectors: mean of the pieces' vectors (piece k has value k)
    np.testing.assert_allclose(words.vectors[:, 0], [1, 2, 3.5, 6.5])
    assert words.vectors.dtype == np.float32 and words.model == "m" and words.layer == -1


def test_wordpiece_continuations_merge_and_punctuation_is_its_own_word():
    text = "the cats sat, far"
    st = make(
        text,
        [
            ("[CLS]", 0, 0),
            ("the", 0, 3),
            ("cat", 4, 7),
            ("##s", 7, 8),
            ("sat", 9, 12),
            (",", 12, 13),
            ("far", 14, 17),
            ("[SEP]", 0, 0),
        ],
    )
    assert detect_convention(st.tokens) == "wordpiece"
    words = merge_words(st)
    assert words.tokens == ("the", "cats", "sat", ",", "far")
    assert words.offsets == ((0, 3), (4, 8), (9, 12), (12, 13), (14, 17))
    np.testing.assert_allclose(words.vectors[:, 0], [1, 2.5, 4, 5, 6])


def test_scripts_without_spaces_give_runs_between_whitespace():
    # Thai under SentencePiece: one "word" per whitespace-delimited run (a phrase)
    text = "ทีมรับของแพนเธอร์ส ยอมแพ้"
    pieces = [
        ("\u2581ทีม", 0, 3),
        ("รับ", 3, 6),
        ("ของ", 6, 9),
        ("แพ", 9, 11),
        ("นเธอร์ส", 11, 18),
        ("\u2581ยอม", 19, 22),
        ("แพ้", 22, 25),
    ]
    words = merge_words(make(text, pieces))
    assert words.tokens == ("ทีมรับของแพนเธอร์ส", "ยอมแพ้")
    assert words.offsets == ((0, 18), (19, 25))


def test_a_dropped_bare_marker_still_separates_words():
    # XLM-R encodes " 1990" as a bare "▁" (marked special) followed by "1990"
    text = "in 1990 年"
    st = make(
        text, [("\u2581in", 0, 2), ("\u2581", 3, 3), ("1990", 3, 7), ("\u2581", 8, 8), ("年", 8, 9)]
    )
    assert merge_words(st).tokens == ("in", "1990", "年")
    # a CJK run after a bare marker is one word under SentencePiece (convention is detected
    # from all tokens, special ones included)
    st = make("北京是首都", [("\u2581", 0, 0), ("北京", 0, 2), ("是", 2, 3), ("首都", 3, 5)])
    assert merge_words(st).tokens == ("北京是首都",)


def test_only_special_tokens_give_an_empty_record():
    st = make("\u200b", [("[CLS]", 0, 0), ("[SEP]", 0, 0)])
    assert len(merge_words(st)) == 0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("m") / "tiny", seed=3)


def test_real_wordpiece_tokenizer_offsets(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu")
    text = "the cats sat on the mat ."
    (st,) = run(enc.token_states([text]))
    words = merge_words(st)
    assert words.tokens == ("the", "cats", "sat", "on", "the", "mat", ".")
    assert all(text[s:e] == w for w, (s, e) in zip(words.tokens, words.offsets, strict=True))
    pieces = st.content()
    cats = [i for i, t in enumerate(pieces.tokens) if t in ("cat", "##s")]
    np.testing.assert_allclose(words.vectors[1], pieces.vectors[cats].mean(0), rtol=1e-6)
