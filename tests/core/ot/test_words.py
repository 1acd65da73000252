"""Sub-word pieces merged into words, with character offsets into the original text."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.ot.words import merge_words
from clirlens.core.progress import run
from clirlens.core.text import segment
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


def test_sentencepiece_pieces_gather_into_the_texts_words():
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
    assert words.tokens == ("Wie", "viele", "Punkte", ",", "Panthers", "?")
    assert spans(words) == [(w, w) for w in words.tokens]
    assert not any(words.special)
    # vectors: mean of the pieces' vectors (piece k has value k)
    np.testing.assert_allclose(words.vectors[:, 0], [1, 2, 3, 4, 6, 8])
    assert words.vectors.dtype == np.float32 and words.model == "m" and words.layer == -1


def test_wordpiece_and_sentencepiece_give_the_same_words():
    text = "the cats sat, far"
    wordpiece = make(
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
    sentencepiece = make(
        text,
        [
            ("\u2581the", 0, 3),
            ("\u2581ca", 4, 6),
            ("ts", 6, 8),
            ("\u2581sat,", 9, 13),
            ("\u2581far", 14, 17),
        ],
    )
    a, b = merge_words(wordpiece), merge_words(sentencepiece)
    assert a.tokens == b.tokens == ("the", "cats", "sat", ",", "far")
    assert a.offsets == b.offsets == ((0, 3), (4, 8), (9, 12), (12, 13), (14, 17))
    np.testing.assert_allclose(a.vectors[:, 0], [1, 2.5, 4, 5, 6])
    # a piece spanning two words ("sat,") counts towards both
    np.testing.assert_allclose(b.vectors[:, 0], [0, 1.5, 3, 3, 4])


def test_thai_is_segmented_into_words_not_phrases():
    # Thai puts spaces between phrases; one SentencePiece piece may span two words
    text = "ทีมใดเป็นตัวแทนของ AFC"
    pieces = [
        ("\u2581ทีม", 0, 3),
        ("ใดเป็น", 3, 9),
        ("ตัวแทน", 9, 15),
        ("ของ", 15, 18),
        ("\u2581AFC", 19, 22),
    ]
    words = merge_words(make(text, pieces))
    assert words.tokens == ("ทีม", "ใด", "เป็น", "ตัวแทน", "ของ", "AFC")
    np.testing.assert_allclose(words.vectors[:, 0], [0, 1, 1, 2, 3, 4])


def test_characters_beyond_the_bmp_keep_python_offsets():
    text = "a😀b 北京大学"
    assert [text[s:e] for s, e in segment.icu_words(text)] == ["a", "😀", "b", "北京", "大学"]


def test_the_fallback_splits_at_spaces_and_peels_punctuation():
    assert [t[s:e] for t in ["«Paris», ok?! ทีมใดเป็น"] for s, e in segment.plain_words(t)] == [
        "«",
        "Paris",
        "»",
        ",",
        "ok",
        "?",
        "!",
        "ทีมใดเป็น",
    ]


def test_format_characters_are_not_words():
    text = "a\u200bb c"
    assert [text[s:e] for s, e in segment.icu_words(text)] == ["a", "b", "c"]


def test_only_special_tokens_give_an_empty_record():
    st = make("\u200b", [("[CLS]", 0, 0), ("[SEP]", 0, 0)])
    assert len(merge_words(st)) == 0


def test_words_past_the_models_maximum_length_are_left_out():
    st = make("one two three", [("\u2581one", 0, 3), ("\u2581two", 4, 7)])
    assert merge_words(st).tokens == ("one", "two")


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


def test_two_real_tokenizers_give_the_same_thai_and_english_words(me5_dir, minilm_dir):
    texts = ["ทีมใดเป็นตัวแทนของ AFC ในซูเปอร์โบวล์ 50?", "Which NFL team won Super Bowl 50?"]
    got = []
    for path in (me5_dir, minilm_dir):
        enc = Encoder(parse_model_arg(str(path)), device="cpu")
        got.append([(w.tokens, w.offsets) for w in map(merge_words, run(enc.token_states(texts)))])
    assert got[0] == got[1]
    assert got[0][0][0][:5] == ("ทีม", "ใด", "เป็น", "ตัวแทน", "ของ")
