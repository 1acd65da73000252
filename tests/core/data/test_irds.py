"""Collections by name through ir_datasets, tested on a local copy registered the way
ir_datasets registers its own (no download): the same evaluation as a BEIR folder of the
same data, the published tables' measures for a known family, and one line for an unknown
name."""

from __future__ import annotations

import json

import pytest

from clirlens.core.cli.main import main
from clirlens.core.data.beir import load_beir, load_beir_job
from clirlens.core.progress import run

from ..tiny_models import make_tiny_bert

ir_datasets = pytest.importorskip("ir_datasets")

DOCS = [("d1", "the cat sat on the mat"), ("d2", "the dog ran far"),
        ("d3", "Paris is the capital of France"), ("d4", "hello world")]  # fmt: skip
QUERIES = [("q1", "what sat on the mat ?"), ("q2", "what is the capital of France ?"),
           ("q3", "who ran far ?")]  # fmt: skip
QRELS = [("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d2", 1), ("q3", "d4", 0)]


def _register(tmp_path, name: str) -> None:
    from ir_datasets.datasets.base import Dataset
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    (tmp_path / "docs.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in DOCS))
    (tmp_path / "queries.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in QUERIES))
    (tmp_path / "qrels.txt").write_text("".join(f"{q} 0 {d} {g}\n" for q, d, g in QRELS))
    if name not in ir_datasets.registry:
        ir_datasets.registry.register(name, Dataset(
            TsvDocs(LocalDownload(tmp_path / "docs.tsv"), lang="xx"),
            TsvQueries(LocalDownload(tmp_path / "queries.tsv"), lang="xx"),
            TrecQrels(LocalDownload(tmp_path / "qrels.txt"), {0: "no", 1: "yes"}),
        ))  # fmt: skip


def _beir(tmp_path):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in DOCS)
    )
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in QUERIES)
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in QRELS)
    )
    return folder


def _metrics(out):
    return {(r["model"], r["measure"]): r["value"]
            for r in json.loads((out / "metrics.json").read_text())}  # fmt: skip


def test_a_dataset_by_name_equals_the_beir_folder_of_the_same_data(tmp_path, capsys):
    from clirlens.core.data.irds import load_irds_job

    _register(tmp_path, "clirlens-test/xx")
    task = run(load_irds_job("clirlens-test/xx"))
    beir = load_beir(_beir(tmp_path), query_lang="xx")
    assert (task.query_lang, task.doc_lang) == ("xx", "xx")
    assert [q.text for q in task.queries] == [q.text for q in beir.queries]
    assert [(p.id, p.text) for p in task.corpus] == [(p.id, p.text) for p in beir.corpus]
    assert task.qrels.data == beir.qrels.data
    stored = run(load_irds_job("clirlens-test/xx", store_dir=tmp_path / "stores"))
    assert type(stored.corpus).__name__ == "PassageStore" and stored == task
    assert (
        stored.corpus.fingerprint
        == run(
            load_beir_job(_beir(tmp_path), query_lang="xx", store_dir=tmp_path / "b-stores")
        ).corpus.fingerprint
    )  # the same passages: the same embedding cache entries

    tiny = make_tiny_bert(tmp_path / "tiny", seed=3)
    common = ["--model", str(tiny), "--model", "bm25", "-q", "--resamples", "50"]
    assert (
        main(["eval", "--dataset", "clirlens-test/xx", *common, "--out", str(tmp_path / "a")]) == 0
    )
    assert main(["eval", "--beir", str(_beir(tmp_path)), "--query-langs", "xx", *common,
                 "--out", str(tmp_path / "b")]) == 0  # fmt: skip
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["dataset"] == {"kind": "irds", "dataset": "clirlens-test/xx",
                                   "ir_datasets": ir_datasets.__version__}  # fmt: skip


def test_a_known_family_prints_its_published_measures(tmp_path, capsys):
    _register(tmp_path, "mr-tydi/clirlens-xx/test")
    tiny = make_tiny_bert(tmp_path / "tiny", seed=4)
    argv = ["eval", "--dataset", "mr-tydi/clirlens-xx/test", "--model", str(tiny), "-q",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 0
    assert {m for _, m in _metrics(tmp_path / "o")} == {"RR@100", "R@100"}
    assert "pyserini's Mr.TyDi" in capsys.readouterr().err


def test_an_unknown_name_is_one_line(capsys):
    assert main(["eval", "--dataset", "mr-tydi/qq/test", "--model", "bm25", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ir_datasets has no dataset 'mr-tydi/qq/test'" in err[0]
    assert "mr-tydi/" in err[0]  # names some that exist
