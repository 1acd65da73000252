"""``clirlens eval`` gives the same figures whatever path the data takes: a BEIR folder
holding XQuAD's th→en equals the XQuAD folder, and a campaign holding XQuAD's gold qrels as
judgments equals the gold evaluation (metrics and p-values)."""

from __future__ import annotations

import json

import pytest

from clirlens.core.cli.main import main
from clirlens.core.data.xquad import load_xquad
from clirlens.core.types import Run
from clirlens.storage.cli import add_parsers as storage_commands
from clirlens.storage.repository import JudgmentRepository

from ..core.tiny_models import make_tiny_bert

pytestmark = pytest.mark.xquad


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("m") / "tiny", seed=5)


def _eval(out, *argv) -> tuple[dict, dict]:
    assert main(["eval", *argv, "--out", str(out), "-q"], registrars=[storage_commands]) == 0
    metrics = {
        (r["qrels"], r["model"], r["query_lang"], r["doc_lang"], r["measure"]): r["value"]
        for r in json.loads((out / "metrics.json").read_text())
    }
    tests = {
        (c["qrels"], c["direction"], c["measure"]): (
            c["p_permutation"],
            c["p_ttest"],
            c["ci95_low"],
            c["ci95_high"],
        )
        for c in json.loads((out / "comparisons.json").read_text())
    }
    return metrics, tests


def _write_beir(folder, task) -> None:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for p in task.corpus:
            f.write(json.dumps({"_id": p.id, "title": p.title or "", "text": p.text}) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        for q in task.queries:
            f.write(json.dumps({"_id": q.id, "text": q.text}, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"]
    lines += [f"{q}\t{d}\t{g}" for q, docs in task.qrels.data.items() for d, g in docs.items()]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")


def test_beir_folder_of_xquad_equals_xquad(tmp_path, tiny, xquad_dir):
    models = ["--model", str(tiny), "--model", f"me5-small={tiny}"]
    langs = ["--query-langs", "th", "--doc-langs", "en"]
    xq = _eval(tmp_path / "xq", *models, "--xquad", str(xquad_dir), *langs)
    beir = tmp_path / "beir"
    _write_beir(beir, load_xquad(xquad_dir, ["th", "en"]).task("th", "en"))
    bf = _eval(tmp_path / "bf", *models, "--beir", str(beir), *langs)
    assert len(xq[0]) == 2 * 5 and len(xq[1]) == 5
    assert bf == xq


def test_campaign_holding_the_gold_qrels_equals_the_gold_evaluation(tmp_path, tiny, xquad_dir):
    task = load_xquad(xquad_dir, ["th", "en"]).task("th", "en")
    gold = Run.from_scores(
        "gold", {q: {d: 1.0 for d in docs} for q, docs in task.qrels.data.items()}
    )
    db = tmp_path / "judgments.sqlite"
    with JudgmentRepository.open(db) as repo:
        c = repo.create_campaign(
            "gold",
            [gold],
            task.queries,
            task.corpus,
            depth=1,
            blind=False,
            directions=["th-en"],
        )
        for item in repo.items(c.name):
            # grade 2 ("relevant"): nDCG's gain is the grade, and 2/x/2 == 1/x to the bit
            # (the gold qrels' grade is 1), so even the resampled tests agree exactly
            repo.judge(item.id, "oracle", 2)
    models = ["--model", str(tiny), "--model", f"me5-small={tiny}"]
    metrics, tests = _eval(
        tmp_path / "out",
        *models,
        "--xquad",
        str(xquad_dir),
        "--query-langs",
        "th",
        "--doc-langs",
        "en",
        "--campaign",
        "gold",
        "--db",
        str(db),
    )
    gold_rows = {k[1:]: v for k, v in metrics.items() if k[0] == "gold"}
    human_rows = {k[1:]: v for k, v in metrics.items() if k[0] == "human"}
    assert len(gold_rows) == 10 and human_rows == gold_rows
    assert {k[1:]: v for k, v in tests.items() if k[0] == "human"} == {
        k[1:]: v for k, v in tests.items() if k[0] == "gold"
    }
    # the judged-only variant is reported too, and says which it is
    assert {k[0] for k in metrics} == {"gold", "human", "judged"}
