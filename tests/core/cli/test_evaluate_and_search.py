"""The headless CLI: bad input exits 2 with one line naming the culprit; eval/search work
end to end on tiny models and a tiny XQuAD-format folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from clirlens.core.cli.main import main

from ..tiny_models import make_tiny_bert

ARTICLES = [
    (
        "Cats",
        [
            ("the cat sat on the mat", [("q1", "what sat on the mat ?", "cat", 4)]),
            ("the dog ran far", [("q2", "what ran far ?", "dog", 4)]),
        ],
    ),
    (
        "Paris",
        [
            (
                "Paris is the capital of France",
                [("q3", "what is the capital of France ?", "Paris", 0)],
            )
        ],
    ),
]


def write_xquad(folder, langs=("en", "xx")):
    folder.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        data = {
            "version": "1.1",
            "data": [
                {
                    "title": title,
                    "paragraphs": [
                        {
                            "context": ctx,
                            "qas": [
                                {
                                    "id": qid,
                                    "question": q,
                                    "answers": [{"text": a, "answer_start": s}],
                                }
                                for qid, q, a, s in qas
                            ],
                        }
                        for ctx, qas in paras
                    ],
                }
                for title, paras in ARTICLES
            ],
        }
        (folder / f"xquad.{lang}.json").write_text(json.dumps(data))
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=11,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )


@pytest.mark.parametrize(
    "argv, culprit",
    [
        (["eval", "--model", "nosuch", "--xquad", "{x}"], "unknown model 'nosuch'"),
        (["eval", "--model", "{m}", "--xquad", "/no/such/folder"], "/no/such/folder"),
        (["eval", "--model", "{m}", "--xquad", "{x}", "--query-langs", "qq"], "'qq'"),
        (["eval", "--model", "{m}", "--xquad", "{bad}", "--query-langs", "en"], "xquad.en.json"),
        (
            ["eval", "--model", "{m}", "--model", "bm25", "--xquad", "{x}", "--query-langs", "xx"],
            "same-language baseline",
        ),
        (["search", "   ", "--model", "{m}", "--xquad", "{x}"], "query text is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, culprit, tmp_path, tiny, capsys):
    x = write_xquad(tmp_path / "xq")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "xquad.en.json").write_text("{broken")
    argv = [a.format(x=x, m=tiny, bad=bad) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("clirlens: error: ")
    assert culprit in err[0]


def test_eval_writes_runs_metrics_and_manifest(tmp_path, tiny, capsys):
    x = write_xquad(tmp_path / "xq")
    out = tmp_path / "out"
    code = main(
        [
            "eval",
            "--model",
            str(tiny),
            "--model",
            f"me5-small={tiny}",
            "--xquad",
            str(x),
            "--query-langs",
            "xx,en",
            "--doc-langs",
            "en",
            "--out",
            str(out),
            "-q",
            "--resamples",
            "200",
        ]
    )
    assert code == 0
    records = json.loads((out / "metrics.json").read_text())
    assert {r["measure"] for r in records} == {"nDCG@10", "RR@10", "R@1", "R@5", "R@100"}
    assert {(r["query_lang"], r["doc_lang"]) for r in records} == {("xx", "en"), ("en", "en")}
    assert all(0.0 <= r["value"] <= 1.0 for r in records)
    # 3 passages, k=100: every gold passage is retrieved
    assert all(r["value"] == 1.0 for r in records if r["measure"] == "R@100")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"][0]["revision"].startswith("sha256:")
    assert manifest["models"][0]["forward"] == "packed"  # a BERT on the CPU
    assert set(manifest["dataset"]["sha256"]) == {"en", "xx"}
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == 4 and (out / "per_query.csv").is_file()
    assert (out / "config.toml").read_text().count("xx") >= 1
    comparisons = json.loads((out / "comparisons.json").read_text())
    assert len(comparisons) == 2 * 5 and all(
        c["p_permutation_holm"] is not None for c in comparisons
    )
    assert "p perm (Holm)" in capsys.readouterr().out


def test_search_prints_ranked_hits(tmp_path, tiny, capsys):
    x = write_xquad(tmp_path / "xq")
    assert (
        main(
            [
                "search",
                "capital of France",
                "--model",
                "bm25",
                "--xquad",
                str(x),
                "--top",
                "2",
                "--json",
                "-q",
            ]
        )
        == 0
    )
    hit = json.loads(capsys.readouterr().out.splitlines()[0])
    assert hit["hits"][0]["passage_id"] == "a001-p00" and len(hit["hits"]) <= 2


def test_help_does_not_import_torch():
    code = (
        "import sys; from clirlens.core.cli.main import build_parser; "
        "build_parser().format_help(); "
        "print(sorted(m for m in ('torch', 'transformers', 'faiss', 'PySide6') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
