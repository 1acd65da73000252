"""``clirlens align`` / ``align-score`` on tiny models: JSON output, table, exit code 2."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from clirlens.core.cli import align as align_cli
from clirlens.core.cli.main import dispatch, main

from ..tiny_models import make_tiny_bert, tiny_with_hidden

QUESTIONS = [
    "what sat on the mat ?",
    "what ran far ?",
    "what is the capital of France ?",
    "the dog sat on the cat",
    "Paris is in France .",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=21,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )


@pytest.fixture(scope="module")
def tiny16(tmp_path_factory):
    return tiny_with_hidden(tmp_path_factory.mktemp("m") / "tiny16", 16)


@pytest.fixture(scope="module")
def xquad(tmp_path_factory):
    """A parallel folder whose "xx" questions are the English ones, except one."""
    folder = tmp_path_factory.mktemp("xq")
    for lang in ("en", "xx"):
        qs = list(QUESTIONS)
        if lang == "xx":
            qs[1] = "what dog ran ?"
        data = {
            "version": "1.1",
            "data": [
                {
                    "title": "T",
                    "paragraphs": [
                        {
                            "context": "the cat sat on the mat",
                            "qas": [
                                {
                                    "id": f"q{k}",
                                    "question": q,
                                    "answers": [{"text": "cat", "answer_start": 4}],
                                }
                                for k, q in enumerate(qs)
                            ],
                        }
                    ],
                }
            ],
        }
        (folder / f"xquad.{lang}.json").write_text(json.dumps(data))
    return folder


def own_parser():
    parser = argparse.ArgumentParser(prog="clirlens")
    align_cli.add_parsers(parser.add_subparsers(dest="command"))
    return parser


def run_cli(argv):
    args = own_parser().parse_args(argv)
    return dispatch(args)


REQUIRED = (
    "source_tokens",
    "target_tokens",
    "cost_matrix",
    "plan",
    "total_cost",
    "epsilon",
    "solver",
)


@pytest.mark.parametrize(
    "extra, solver, eps",
    [
        ([], "sinkhorn", 0.05),
        (["--eps", "0.2"], "sinkhorn", 0.2),
        (["--eps", "0.002"], "sinkhorn_log", 0.002),
        (["--emd"], "emd", 0.0),
        (["--unbalanced", "0.5"], "unbalanced", 0.05),
    ],
)
def test_align_json_has_the_required_keys_and_parses(tiny, capsys, extra, solver, eps):
    code = run_cli(
        [
            "align",
            "the cats sat on the mat",
            "the dog ran far",
            "--model",
            str(tiny),
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    assert all(k in d for k in REQUIRED)
    assert d["solver"] == solver and d["epsilon"] == eps
    assert d["source_tokens"] == ["the", "cat", "##s", "sat", "on", "the", "mat"]
    plan, cost = np.array(d["plan"]), np.array(d["cost_matrix"])
    assert plan.shape == cost.shape == (7, 4)
    assert d["total_cost"] == pytest.approx(float(np.sum(plan * cost)))
    if solver != "unbalanced":
        np.testing.assert_allclose(plan.sum(1), 1 / 7, atol=1e-6)
        np.testing.assert_allclose(plan.sum(0), 1 / 4, atol=1e-6)
    else:
        assert d["tau"] == 0.5


def test_align_words_and_two_models(tiny, tmp_path, capsys):
    other = make_tiny_bert(tmp_path / "other", seed=22)
    assert (
        run_cli(
            [
                "align",
                "the cats sat",
                "the dog sat",
                "--model",
                str(other),
                "--model2",
                str(tiny),
                "--words",
                "--layer",
                "0",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["source_tokens"] == ["the", "cats", "sat"] and d["words"] is True
    assert (d["source_model"], d["target_model"], d["layer"]) == ("other", "tiny", 0)


def test_align_prints_the_strongest_pairs(tiny, capsys):
    assert (
        run_cli(
            ["align", "the cat sat", "the cat sat", "--model", str(tiny), "--emd", "--top", "3"]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "model tiny, layer -1; 3 x 3 tokens"
    assert out[1] == "solver emd, converged"
    assert out[2].startswith("total cost <P,C> = 0.0000")
    pairs = out[-3:]
    assert sorted(p.split()[-3:] for p in pairs) == [
        ["cat", "->", "cat"],
        ["sat", "->", "sat"],
        ["the", "->", "the"],
    ]
    assert all("100.0%" in p for p in pairs)


@pytest.mark.parametrize(
    "argv, culprit",
    [
        (["align", "", "the cat", "--model", "{m}"], "source text is empty"),
        (["align", "the cat", "  ", "--model", "{m}"], "target text is empty"),
        (["align", "\u200b", "the cat", "--model", "{m}"], "tokenises to special tokens only"),
        (
            ["align", "the cat", "the dog", "--model", "{m}", "--model2", "{m16}"],
            "hidden sizes differ: 'tiny' has 32, 'tiny16' has 16",
        ),
        (["align", "a", "b", "--model", "{m}", "--emd", "--eps", "0.1"], "--eps has no meaning"),
        (["align", "a", "b", "--model", "{m}", "--eps", "0"], "ε must be a positive number"),
        (["align", "a", "b", "--model", "{m}", "--unbalanced", "-1"], "τ > 0"),
        (["align", "a", "b", "--model", "/no/such/dir"], "/no/such/dir"),
        (["align-score", "--xquad", "{x}", "--langs", "qq", "--model", "{m}"], "'qq'"),
        (["align-score", "--xquad", "{x}", "--langs", "xx", "--model", "bm25"], "not a dense"),
        (
            ["align-score", "--xquad", "/no/such/xq", "--langs", "xx", "--model", "{m}"],
            "/no/such/xq",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, culprit, tiny, tiny16, xquad, capsys):
    argv = [a.format(m=tiny, m16=tiny16, x=xquad) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clirlens: error: ")
    assert culprit in err[0]


def test_align_score_json(tiny, xquad, capsys):
    code = main(
        [
            "align-score",
            "--xquad",
            str(xquad),
            "--langs",
            "xx",
            "--model",
            str(tiny),
            "--model",
            str(tiny),
            "--n",
            "5",
            "--emd",
            "--json",
            "--details",
            "-q",
        ]
    )
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2
    r = records[0]
    for key in (
        "model",
        "lang",
        "pivot",
        "layer",
        "solver",
        "epsilon",
        "pairs",
        "mean_cost",
        "std_cost",
        "candidates",
        "accuracy",
        "mrr",
        "problems",
        "unconverged",
        "costs",
        "ranks",
    ):
        assert key in r
    assert (r["lang"], r["pivot"], r["solver"], r["pairs"], r["candidates"]) == (
        "xx",
        "en",
        "emd",
        5,
        5,
    )
    # four questions are identical to their English side: cost 0 and rank 1
    assert [r["costs"][f"q{k}"] for k in (0, 2, 3, 4)] == pytest.approx([0.0] * 4, abs=1e-6)
    assert r["costs"]["q1"] > 0.01
    assert all(r["ranks"][f"q{k}"] == 1 for k in (0, 2, 3, 4))
    assert r["accuracy"] >= 0.8 and r["mean_cost"] == pytest.approx(r["costs"]["q1"] / 5)


def test_align_score_table(tiny, xquad, capsys, tmp_path):
    argv = [
        "align-score",
        "--xquad",
        str(xquad),
        "--langs",
        "xx",
        "--model",
        str(tiny),
        "--n",
        "3",
        "--pairs",
        "2",
        "--pick",
        "first",
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("OT alignment with en (solver sinkhorn ε=0.05, layer -1)")
    assert "retrieval among 3 candidates (first)" in out[0]
    assert out[1].split() == ["lang", "model", "pairs", "mean", "cost", "sd", "P@1", "MRR"]
    assert out[2].split()[:3] == ["xx", "tiny", "2"]
    assert any((tmp_path / "c" / "ot-states").iterdir())  # token states went to disk
    assert main(argv) == 0  # and are read back
    assert capsys.readouterr().out.splitlines()[2] == out[2]
