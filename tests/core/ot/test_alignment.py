"""The Alignment record: cost, plan, marginals, best partners, JSON; input errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clirlens.core.errors import ModelError, UserError
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import ModelSpec, parse_model_arg
from clirlens.core.ot.alignment import align_states, align_texts
from clirlens.core.progress import run
from clirlens.core.types import TokenStates

from ..tiny_models import make_tiny_bert, tiny_with_hidden


def states(text, vectors, special=None, model="m", layer=-1):
    words = text.split()
    offs, pos = [], 0
    for w in words:
        start = text.index(w, pos)
        offs.append((start, start + len(w)))
        pos = start + len(w)
    n = len(words)
    return TokenStates(
        text,
        tuple(words),
        tuple(offs),
        tuple(special or (False,) * n),
        np.asarray(vectors, dtype=np.float32),
        model,
        layer,
    )


def test_identical_texts_align_to_themselves():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((5, 8))
    s = states("a b c d e", v)
    al = align_states(s, s, solver="emd")
    np.testing.assert_allclose(al.plan, np.eye(5) / 5, atol=1e-12)
    assert al.total_cost == pytest.approx(0.0, abs=1e-6)
    assert al.source_best.tolist() == al.target_best.tolist() == list(range(5))
    np.testing.assert_allclose(al.source_best_mass, 0.2)
    assert al.solver == "emd" and al.epsilon == 0.0 and al.iterations is None and al.converged


def test_record_fields_and_json():
    rng = np.random.default_rng(1)
    src = states("x1 x2 x3", rng.standard_normal((3, 8)), model="A", layer=4)
    tgt = states("y1 y2 y3 y4", rng.standard_normal((4, 8)), model="B", layer=4)
    al = align_states(src, tgt, eps=0.1)
    x = src.vectors / np.linalg.norm(src.vectors, axis=1, keepdims=True)
    y = tgt.vectors / np.linalg.norm(tgt.vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(al.cost, 1 - x @ y.T, atol=1e-6)
    assert al.cost.dtype == al.plan.dtype == np.float64 and al.shape == (3, 4)
    np.testing.assert_allclose(al.source_marginal, 1 / 3)
    np.testing.assert_allclose(al.target_marginal, 1 / 4)
    np.testing.assert_allclose(al.plan.sum(1), al.source_marginal, atol=1e-9)
    np.testing.assert_allclose(al.plan.sum(0), al.target_marginal, atol=1e-9)
    assert al.total_cost == pytest.approx(float(np.sum(al.plan * al.cost)))
    assert al.source_best.tolist() == al.plan.argmax(1).tolist()
    assert al.target_best.tolist() == al.plan.argmax(0).tolist()
    np.testing.assert_allclose(al.source_best_mass, al.plan.max(1))
    np.testing.assert_allclose(al.target_best_mass, al.plan.max(0))
    assert al.source_offsets == ((0, 2), (3, 5), (6, 8))
    assert (al.source_model, al.target_model, al.layer) == ("A", "B", 4)
    assert al.solver == "sinkhorn" and al.epsilon == 0.1 and al.tau is None
    assert al.converged and al.iterations >= 1
    top = al.top_pairs(5)
    assert [p[2] for p in top] == sorted(al.plan.ravel(), reverse=True)[:5]
    assert all(al.plan[i, j] == m for i, j, m in top)
    d = json.loads(json.dumps(al.to_json()))
    for key in (
        "source_tokens",
        "target_tokens",
        "cost_matrix",
        "plan",
        "total_cost",
        "epsilon",
        "solver",
        "source_offsets",
        "target_offsets",
        "source_marginal",
        "target_marginal",
        "source_best",
        "source_best_mass",
        "target_best",
        "target_best_mass",
        "iterations",
        "converged",
        "tau",
        "layer",
    ):
        assert key in d
    np.testing.assert_allclose(d["plan"], al.plan)
    assert d["source_tokens"] == ["x1", "x2", "x3"]


def test_unbalanced_leaves_a_token_without_counterpart_unaligned():
    e = np.eye(4)
    src = states("cat dog zebra", [e[0], e[1], e[3]])
    tgt = states("cat dog", [e[0] + 0.1 * e[1], e[1]])
    bal = align_states(src, tgt, eps=0.02)
    unb = align_states(src, tgt, solver="unbalanced", eps=0.02, tau=0.2)
    assert bal.plan[2].sum() == pytest.approx(1 / 3, abs=1e-9)  # balanced: zebra must go
    assert unb.plan[2].sum() < 0.05 * (1 / 3)
    assert unb.plan[0, 0] > 0.25 and unb.plan[1, 1] > 0.25
    assert unb.solver == "unbalanced" and unb.tau == 0.2 and unb.transported_mass < 0.9


def test_weights():
    rng = np.random.default_rng(2)
    src = states("a b", rng.standard_normal((2, 6)))
    tgt = states("c d e", rng.standard_normal((3, 6)))
    al = align_states(src, tgt, weights=([1, 3], [1, 1, 2]))
    np.testing.assert_allclose(al.source_marginal, [0.25, 0.75])
    np.testing.assert_allclose(al.plan.sum(0), [0.25, 0.25, 0.5], atol=1e-9)
    norm = align_states(src, tgt, weights="norm")
    n = np.linalg.norm(src.vectors.astype(np.float64), axis=1)
    np.testing.assert_allclose(norm.source_marginal, n / n.sum())
    with pytest.raises(UserError, match="2 values for 3 tokens"):
        align_states(tgt, src, weights=([1, 2], [1, 1]))
    with pytest.raises(UserError, match="non-negative"):
        align_states(src, tgt, weights=([1, -1], [1, 1, 1]))
    with pytest.raises(UserError, match="unknown token weighting"):
        align_states(src, tgt, weights="idf")


def test_special_tokens_are_removed():
    rng = np.random.default_rng(3)
    src = TokenStates(
        "hi there",
        ("[CLS]", "hi", "there", "[SEP]"),
        ((0, 0), (0, 2), (3, 8), (0, 0)),
        (True, False, False, True),
        rng.standard_normal((4, 8)).astype(np.float32),
        "m",
        -1,
    )
    al = align_states(src, src)
    assert al.source_tokens == ("hi", "there") and al.plan.shape == (2, 2)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_is_a_user_error(text):
    ok = states("a", [[1.0, 0.0]])
    bad = TokenStates(text, (), (), (), np.zeros((0, 2), np.float32), "m", -1)
    with pytest.raises(UserError, match="source text is empty"):
        align_states(bad, ok)
    with pytest.raises(UserError, match="target text is empty"):
        align_states(ok, bad)


def test_special_tokens_only_and_hidden_size_mismatch():
    ok = states("a b", np.ones((2, 4)))
    only = TokenStates(
        "\u200b",
        ("[CLS]", "[SEP]"),
        ((0, 0), (0, 0)),
        (True, True),
        np.ones((2, 4), np.float32),
        "tiny",
        -1,
    )
    with pytest.raises(UserError, match="tokenises to special tokens only under model 'tiny'"):
        align_states(ok, only)
    with pytest.raises(ModelError, match="hidden sizes differ: 'A' has 4, 'B' has 3"):
        align_states(
            states("a b", np.ones((2, 4)), model="A"), states("c", np.ones((1, 3)), model="B")
        )


# -- with real (tiny) transformer models ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=5,
        sentence_transformers={
            "pooling": "mean",
            "normalize": True,
            "prompts": {"query": "query : "},
        },
    )


@pytest.fixture(scope="module")
def tiny16(tmp_path_factory):
    return tiny_with_hidden(tmp_path_factory.mktemp("m") / "tiny16", 16)


def test_align_texts_with_a_model(tiny):
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu")
    al = run(align_texts("the cats sat on the mat", "the dog ran far", enc, layer=1))
    assert al.source_tokens == ("the", "cat", "##s", "sat", "on", "the", "mat")
    assert "query" not in al.source_tokens  # the prompt's tokens are not content
    assert al.target_offsets[1] == (4, 7) and al.layer == 1
    np.testing.assert_allclose(al.plan.sum(1), 1 / 7, atol=1e-6)
    words = run(align_texts("the cats sat", "the cats sat", enc, words=True, solver="emd"))
    assert words.source_tokens == ("the", "cats", "sat") and words.words
    np.testing.assert_allclose(np.diag(words.plan), 1 / 3, atol=1e-9)
    with pytest.raises(UserError, match="tokenises to special tokens only"):
        run(align_texts("\u200b", "the cat", enc))


def test_align_texts_checks_before_loading_and_compares_hidden_sizes(tiny, tiny16):
    never = Encoder(ModelSpec(name="never", source="/no/such/model"))
    with pytest.raises(UserError, match="target text is empty"):
        run(align_texts("a", " ", never))
    enc = Encoder(parse_model_arg(str(tiny)), device="cpu")
    small = Encoder(parse_model_arg(str(tiny16)), device="cpu")
    with pytest.raises(ModelError, match=r"hidden sizes differ: 'tiny' has 32, 'tiny16' has 16"):
        run(align_texts("the cat", "the dog", enc, small))


def test_two_models_with_the_same_hidden_size(tiny, tmp_path):
    teacher = Encoder(parse_model_arg(str(tiny)), device="cpu")
    student = Encoder(
        parse_model_arg(str(make_tiny_bert(tmp_path / "student", seed=6))), device="cpu"
    )
    al = run(align_texts("the cat sat", "the cat sat", student, teacher, target_role="passage"))
    assert (al.source_model, al.target_model) == ("student", "tiny")
    same = run(align_texts("the cat sat", "the cat sat", teacher, target_role="passage"))
    assert al.source_tokens == same.source_tokens
    assert not np.allclose(al.cost, same.cost)  # different weights, different spaces
