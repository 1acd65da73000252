"""XQuAD-R built from the XQuAD release: the counts its construction implies, mAP@20 equal to
LAReQA's formula computed by brute force here, preference shares that sum to 1, and what
``clirlens eval --task xquad-r`` prints and writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clirlens.core.cli.main import main
from clirlens.core.data.xquad import load_xquad
from clirlens.core.evaluation.lareqa import build_xquad_r, language_preference
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.text.sentences import sentences

pytestmark = pytest.mark.xquad
LANGS = ("en", "th", "hi")


@pytest.fixture(scope="module")
def task(xquad_dir):
    return build_xquad_r(load_xquad(xquad_dir, LANGS), LANGS, articles=2)


def test_the_construction_has_the_counts_it_implies(task, xquad_dir):
    xq = load_xquad(xquad_dir, LANGS)
    paragraphs = [p for p in xq.passages("en") if int(p.id[1:4]) < 2]
    for lang in LANGS:  # candidates: every sentence of every chosen language
        kept = [p for p in xq.passages(lang) if int(p.id[1:4]) < 2]
        assert task.sentences(lang) == sum(len(sentences(p.text, lang)) for p in kept)
    questions = {q.id for q in xq.queries("en") if xq.task("en", "en").qrels.data[q.id]
                 and next(iter(xq.task("en", "en").qrels.data[q.id])) in
                 {p.id for p in paragraphs}}  # fmt: skip
    assert task.questions == len(questions)
    assert len(task.answers) <= task.questions
    assert task.questions - len(task.answers) <= sum(task.dropped.values())
    by_id = {c.id: c for c in task.candidates}
    for qid, answers in task.answers.items():  # one correct answer per language
        assert sorted(answers) == sorted(LANGS)
        for lang, cid in answers.items():
            answer = xq.answers(lang)[qid][0].text
            assert by_id[cid].lang == lang and answer in by_id[cid].text
    for lang in LANGS:  # every kept question is a query in every language
        assert {q.id for q in task.queries[lang]} == set(task.answers)


def test_map20_equals_lareqas_formula_and_shares_sum_to_one(task, me5_dir, tmp_path):
    spec = parse_model_arg(f"me5-small={me5_dir}")
    result = run(language_preference(make_retriever(spec, cache=Cache(tmp_path)), task, k=5))
    enc = Encoder(spec, device="cpu")
    pool = run(enc.encode_passages(task.candidates))
    ids = [c.id for c in task.candidates]
    for lang in LANGS:
        qv = run(enc.encode([q.text for q in task.queries[lang]], "query"))
        aps = []
        for i, q in enumerate(task.queries[lang]):
            ranked = [ids[j] for j in np.argsort(-(pool @ qv[i]), kind="stable")[:20]]
            targets = set(task.answers[q.id].values())
            hits, score = 0, 0.0
            for r, cid in enumerate(ranked):  # LAReQA's average_precision_at_k
                if cid in targets:
                    hits += 1
                    score += hits / (r + 1)
            aps.append(score / min(len(targets), 20))
        assert result.map20[lang] == pytest.approx(np.mean(aps), abs=1e-6)
        assert sum(result.shares[lang].values()) == pytest.approx(1.0)
        assert 0.0 <= min(result.recall[lang].values()) <= max(result.recall[lang].values()) <= 1
    assert result.mean_map20 > 0.2  # e5 retrieves across languages


def test_eval_task_xquad_r_prints_and_writes(xquad_dir, me5_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["eval", "--task", "xquad-r", "--xquad", str(xquad_dir), "--model",
            f"me5-small={me5_dir}", "--query-langs", ",".join(LANGS), "--subset", "2",
            "--out", str(out), "-q", "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "XQuAD-R:" in printed and "icu sentences" in printed and "mAP@20" in printed
    record = json.loads((out / "xquad_r.json").read_text())
    assert record["kept"] <= record["questions"] and set(record["sentences"]) == set(LANGS)
    assert f"{record['models']['me5-small']['mean_map@20']:.3f}" in printed
    rows = (out / "preference.csv").read_text().splitlines()
    assert len(rows) == 1 + len(LANGS) ** 2
    assert main(["eval", "--task", "xquad-r", "--beir", str(tmp_path), "--model",
                 "me5-small"]) == 2  # fmt: skip
