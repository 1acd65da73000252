"""Runs from other tools as systems: a TREC run file stands where a model stands and gives
the same evaluation as the model that produced it; what needs a model says so in one line."""

from __future__ import annotations

import json

import pytest

from clirlens.core.cli.main import main
from clirlens.core.errors import UserError
from clirlens.core.progress import run
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace

from ..tiny_models import make_tiny_bert
from .test_evaluate_and_search import write_xquad


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("m") / "tiny", seed=21)


def _eval(argv, out):
    code = main(["eval", *argv, "--out", str(out), "-q", "--resamples", "100"])
    values = {}
    if code == 0:
        for r in json.loads((out / "metrics.json").read_text()):
            values[(r["model"], r["query_lang"], r["doc_lang"], r["measure"])] = r["value"]
    return code, values


def test_a_run_file_evaluates_exactly_as_the_model_that_wrote_it(tmp_path, tiny, capsys):
    x = write_xquad(tmp_path / "xq")
    langs = ["--xquad", str(x), "--query-langs", "xx,en", "--doc-langs", "en"]
    code, model = _eval(["--model", str(tiny), *langs], tmp_path / "a")
    assert code == 0
    runs = tmp_path / "a" / "runs"
    argv = ["--model", str(tiny), "--run", f"copy=xx-en:{runs / 'tiny.xx-en.trec'}",
            "--run", f"copy=en-en:{runs / 'tiny.en-en.trec'}", *langs]  # fmt: skip
    code, both = _eval(argv, tmp_path / "b")
    assert code == 0
    for (m, q, d, measure), value in model.items():
        assert both[("copy", q, d, measure)] == value  # the run is the model's ranking
        assert both[(m, q, d, measure)] == value
    printed = capsys.readouterr().out
    assert "copy" in printed and "p perm (Holm)" in printed  # paired with the model
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    record = next(m for m in manifest["models"] if m["name"] == "copy")
    assert record["kind"] == "run" and set(record["files"]) == {"xx-en", "en-en"}


def test_one_line_for_a_direction_the_runs_do_not_cover(tmp_path, tiny, capsys):
    x = write_xquad(tmp_path / "xq")
    trec = tmp_path / "r.trec"
    trec.write_text("q1 Q0 a000-p00 1 2.0 t\n")
    argv = ["--model", str(tiny), "--run", f"r=xx-en:{trec}", "--xquad", str(x),
            "--query-langs", "en", "--doc-langs", "en"]  # fmt: skip
    capsys.readouterr()
    code, _ = _eval(argv, tmp_path / "o")
    err = [x for x in capsys.readouterr().err.splitlines() if "note:" not in x]
    assert code == 2 and len(err) == 1 and "r has no run for en→en" in err[0]
    trec.write_text("q1 Q0 nowhere 1 2.0 t\n")
    argv[3] = f"r={trec}"
    code, _ = _eval(argv, tmp_path / "o2")
    err = [x for x in capsys.readouterr().err.splitlines() if "note:" not in x]
    assert code == 2 and len(err) == 1 and "ranks passages this corpus does not have" in err[0]


def test_free_text_search_and_alignment_need_a_model(tmp_path, tiny):
    x = write_xquad(tmp_path / "xq")
    trec = tmp_path / "r.trec"
    trec.write_text("q1 Q0 a000-p00 1 2.0 t\n")
    ws = Workspace(WorkspaceConfig(str(x), models=(str(tiny), f"run:r={trec}"),
                                   query_langs=("xx",), doc_langs=("en",)))  # fmt: skip
    comparison = run(ws.prepare("xx", "en"))
    # a judging pool takes the run like a model's
    from clirlens.core.workspace.judging_plan import plan_campaign

    plan = plan_campaign(comparison, models=["r"])
    assert [d.passage_id for d in plan.runs[0].top("q1")] == ["a000-p00"]
    with pytest.raises(UserError, match="r is a run file: it ranks only its own queries"):
        run(ws.search_text("the cat", "xx", "en"))
    from clirlens.core.ot.session import model_encoder

    with pytest.raises(UserError, match="r is a run file: it has no token states"):
        model_encoder(ws, 1, "en")
