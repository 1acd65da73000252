"""Which languages each model's fine-tuning saw: the sourced preset records, a user's file,
and what ``clirlens eval`` prints and writes (seen / zero-shot per direction, the
low-resource average split by it)."""

from __future__ import annotations

import csv
import json

import pytest

from clirlens.core.cli.main import main
from clirlens.core.errors import UserError
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.models.training import read_user_records, training_languages

from ..tiny_models import make_tiny_bert
from .test_evaluate_and_search import write_xquad


def test_the_presets_say_what_their_sources_say():
    webfaq, tydi, e5 = (training_languages(parse_model_arg(n), {}) for n in
                        ("webfaq", "tydi", "me5-small"))  # fmt: skip
    assert [webfaq.status(x) for x in ("hi", "tr", "el", "ro", "th")] == (
        ["seen"] * 2 + ["zero-shot"] * 3
    )
    assert [tydi.status(x) for x in ("th", "el", "hi", "ro", "tr")] == (
        ["seen"] + ["zero-shot"] * 4
    )
    assert "ft_sample.py" in webfaq.source and "Mr.TyDi" in tydi.source
    # e5's mixture is not itemised: outside Mr.TyDi and MIRACL nothing is claimed
    assert (e5.status("th"), e5.status("hi"), e5.status("el")) == ("seen", "seen", "unknown")
    assert training_languages(parse_model_arg("bm25"), {}) is None
    assert training_languages(parse_model_arg("org/other-model"), {}).status("en") == "unknown"


def test_a_malformed_user_file_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "training_languages.toml"
    bad.write_text('[models."x"]\nlanguages = "en"\n')
    with pytest.raises(UserError, match=r"training_languages\.toml.*languages"):
        read_user_records(bad)
    bad.write_text("[models\n")
    with pytest.raises(UserError, match="not a readable TOML file") as err:
        read_user_records(bad)
    assert "\n" not in str(err.value)


def test_eval_prints_seen_and_zero_shot_and_splits_the_average(tmp_path, capsys, monkeypatch):
    tiny = make_tiny_bert(tmp_path / "tiny", seed=5)
    other = make_tiny_bert(tmp_path / "other", seed=6)
    records = tmp_path / "training_languages.toml"
    records.write_text(
        f'[models."{tiny}"]\nlanguages = ["en", "hi"]\ncomplete = true\nsource = "our log"\n'
    )
    monkeypatch.setenv("CLIRLENS_TRAINING_LANGS", str(records))
    x = write_xquad(tmp_path / "xq", langs=("en", "hi", "th"))
    out = tmp_path / "out"
    argv = ["eval", "--model", str(tiny), "--model", f"me5-small={other}", "--xquad", str(x),
            "--query-langs", "th,hi", "--doc-langs", "en", "--out", str(out), "-q",
            "--resamples", "100"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    th = printed[printed.index("th-en") : printed.index("hi-en")]
    assert "queries th zero-shot, passages en seen" in th  # the user's record
    assert "queries th seen, passages en seen" in th  # me5-small's: Mr.TyDi and MIRACL
    assert "tiny: our log" in printed and "me5-small: fine-tuning mixture" in printed

    table = list(csv.DictReader((out / "table.csv").open(encoding="utf-8")))
    metrics = json.loads((out / "metrics.json").read_text())
    value = {(r["model"], r["query_lang"], r["measure"]): r["value"] for r in metrics}
    split = {r["direction"]: r for r in table if "by tiny" in r["direction"]}
    assert set(split) == {
        "low-resource avg → en, seen by tiny (hi)",
        "low-resource avg → en, zero-shot by tiny (th)",
    }  # me5-small saw both: no split for it
    zero = split["low-resource avg → en, zero-shot by tiny (th)"]
    assert float(zero["R@1"]) == pytest.approx(value[("tiny", "th", "R@1")], abs=1e-6)
    saw = {(r["model"], r["query_lang"]): r["fine_tuning_saw"] for r in table if r["query_lang"]}
    assert saw[("tiny", "hi")] == "queries hi seen, passages en seen"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training_languages"]["tiny"]["source"] == "our log"
