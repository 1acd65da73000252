"""ModelSpec parsing, presets, sentence-transformers conventions, loading rules."""

from __future__ import annotations

import pytest

from clirlens.core.errors import ModelError
from clirlens.core.models import loading
from clirlens.core.models.spec import PRESETS, parse_model_arg
from clirlens.core.models.st_files import apply_sentence_transformers_config

from ..tiny_models import make_tiny_bert


def test_presets_match_design_conventions():
    tydi, e5, webfaq = PRESETS["tydi"], PRESETS["me5-small"], PRESETS["webfaq"]
    assert (tydi.pooling, tydi.similarity, tydi.normalize) == ("cls", "ip", False)
    assert (tydi.max_length, tydi.title_join, tydi.lowercase) == (256, " ", False)
    assert (e5.query_prefix, e5.passage_prefix, e5.pooling) == ("query: ", "passage: ", "mean")
    assert webfaq.similarity == "cosine" and webfaq.query_prefix == ""
    assert PRESETS["bm25"].kind == "bm25"


def test_parse_preset_bound_to_directory_keeps_conventions(tmp_path):
    spec = parse_model_arg(f"me5-small={tmp_path}")
    assert spec.source == str(tmp_path.resolve())
    assert spec.name == "me5-small" and spec.query_prefix == "query: "


@pytest.mark.parametrize(
    "arg, message",
    [
        ("nosuchpreset", "unknown model 'nosuchpreset'"),
        ("bogus=/tmp", "unknown preset 'bogus'"),
        ("me5-small=/no/such/dir", "does not exist"),
        ("", "empty --model"),
    ],
)
def test_parse_bad_model_args(arg, message):
    with pytest.raises(ModelError, match=message):
        parse_model_arg(arg)


def test_parse_hub_id_and_directory(tmp_path):
    assert parse_model_arg("org/some-model").source == "org/some-model"
    d = tmp_path / "mymodel"
    d.mkdir()
    assert parse_model_arg(str(d)).name == "mymodel"


def test_sentence_transformers_files_set_conventions(tmp_path):
    folder = make_tiny_bert(
        tmp_path / "st",
        sentence_transformers={
            "pooling": "cls",
            "normalize": False,
            "max_seq_length": 16,
            "prompts": {"query": "q: ", "document": "d: "},
        },
    )
    spec = apply_sentence_transformers_config(parse_model_arg(str(folder)), folder)
    assert (spec.pooling, spec.similarity, spec.max_length) == ("cls", "ip", 16)
    assert (spec.query_prefix, spec.passage_prefix) == ("q: ", "d: ")


def test_pinned_preset_ignores_folder_files(tmp_path):
    folder = make_tiny_bert(tmp_path / "st", sentence_transformers={"pooling": "cls"})
    spec = apply_sentence_transformers_config(parse_model_arg(f"me5-small={folder}"), folder)
    assert spec.pooling == "mean" and spec.query_prefix == "query: "


def test_directory_without_config_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"no config\.json"):
        loading.resolve(parse_model_arg(str(tmp_path)))


def test_unreachable_hub_model_names_it_and_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError) as err:
        loading.resolve(parse_model_arg("tydi"))
    text = str(err.value)
    assert "castorini/mdpr-tied-pft-msmarco-ft-all" in text
    assert "hf download" in text and "tydi=/path/to/model" in text


def test_same_model_loaded_twice_is_reused(tmp_path):
    folder = make_tiny_bert(tmp_path / "m")
    a = loading.load(parse_model_arg(str(folder)), device="cpu")
    b = loading.load(parse_model_arg(str(folder)), device="cpu")
    assert a.model is b.model and a.tokenizer is b.tokenizer


def test_weights_hash_changes_with_weights(tmp_path):
    one = loading.weights_hash(make_tiny_bert(tmp_path / "one", seed=1))
    two = loading.weights_hash(make_tiny_bert(tmp_path / "two", seed=2))
    assert one != two and len(one) == 64
    assert loading.weights_hash(tmp_path / "one") == one  # memoised, same answer


def test_tydi_tokenizer_family_keeps_letter_case(tmp_path):
    """mDPR ships a DPR tokenizer class over cased mBERT WordPiece; transformers 5 drops its
    do_lower_case=False on the way to BertTokenizer. Loading through the tydi preset must
    keep case."""
    folder = make_tiny_bert(
        tmp_path / "dpr", tokenizer_class="DPRQuestionEncoderTokenizer", do_lower_case=False
    )
    lm = loading.load(parse_model_arg(f"tydi={folder}"), device="cpu")
    assert lm.tokenizer.tokenize("Hello Paris") == ["Hello", "Paris"]
    assert lm.tokenizer.tokenize("hello paris") == ["hello", "paris"]
    ids_upper = lm.tokenizer("Hello")["input_ids"]
    ids_lower = lm.tokenizer("hello")["input_ids"]
    assert ids_upper != ids_lower


def test_a_lowercasing_model_stays_lowercasing(tmp_path):
    folder = make_tiny_bert(tmp_path / "uncased", do_lower_case=True)
    lm = loading.load(parse_model_arg(str(folder)), device="cpu")
    assert lm.tokenizer.tokenize("Hello Paris") == ["hello", "paris"]
