"""Faults around models: never a silently wrong result, never a traceback.

Weights that do not fit their architecture are refused (no random layers), new weights
copied over old ones with their times kept are noticed, sentence-transformers files with
bad values are named, an ε the solver cannot honour is refused, library messages reach the
user as one line without unsafe advice."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from safetensors.torch import load_file, save_file

from clirlens.core.cli.main import main
from clirlens.core.errors import ModelError, UserError, library_message
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.loading import load, weights_hash
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run

from ..core.tiny_models import make_tiny_bert

pytestmark = pytest.mark.faults


def _tiny(tmp_path, name="tiny", **kw):
    return make_tiny_bert(tmp_path / name, seed=3, **kw)


def _rewrite(folder, keep) -> None:
    tensors = load_file(folder / "model.safetensors")
    save_file(
        {k: v for k, v in tensors.items() if keep(k)},
        folder / "model.safetensors",
        metadata={"format": "pt"},
    )


@pytest.mark.parametrize(
    "keep, count",
    [
        (lambda k: not k.startswith("encoder.layer.1."), "of its"),  # a layer missing
        (lambda k: False, "of its"),  # nothing of the model
    ],
)
def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, keep, count):
    folder = _tiny(tmp_path)
    _rewrite(folder, keep)
    with pytest.raises(ModelError) as info:
        load(parse_model_arg(str(folder)), "cpu")
    message = str(info.value)
    assert str(folder) in message and "missing" in message and count in message
    assert "\n" not in message and "random" in message


def test_an_unused_pooler_may_be_missing(tmp_path):
    folder = _tiny(tmp_path)
    _rewrite(folder, lambda k: not k.startswith("pooler."))
    encoder = Encoder(parse_model_arg(str(folder)), device="cpu")
    vectors = run(encoder.encode(["the cat sat"], "query"))
    assert vectors.shape == (1, 32)


def test_new_weights_copied_over_with_their_times_kept_are_noticed(tmp_path):
    old = _tiny(tmp_path, "old")
    new = make_tiny_bert(tmp_path / "new", seed=4)  # same shapes, other values
    memo = tmp_path / "cache"
    before = weights_hash(old, memo)
    assert (memo / "weight-hashes.json").is_file()  # the memo lives under the cache given
    stat = (old / "model.safetensors").stat()
    shutil.copyfile(new / "model.safetensors", old / "model.safetensors")
    os.utime(old / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # touch -r
    assert (old / "model.safetensors").stat().st_size == stat.st_size
    after = weights_hash(old, memo)
    assert after != before and after == weights_hash(new, memo)


@pytest.mark.parametrize(
    "files, culprit",
    [
        ({"modules.json": {"type": "Pooling"}}, "modules.json: expected a list of modules"),
        (
            {"sentence_bert_config.json": {"max_seq_length": -5}},
            "max_seq_length must be a positive",
        ),
        ({"sentence_bert_config.json": {"max_seq_length": "long"}}, "max_seq_length must be"),
        ({"config_sentence_transformers.json": {"prompts": ["q"]}}, "prompts must be an object"),
        ({"modules.json": "[" * 200_000}, "nested too deeply"),
    ],
)
def test_bad_sentence_transformers_files_are_one_line_naming_file_and_value(
    tmp_path, files, culprit
):
    folder = _tiny(tmp_path, sentence_transformers={"pooling": "mean"})
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text)
    with pytest.raises(ModelError) as info:
        Encoder(parse_model_arg(str(folder)), device="cpu").spec  # noqa: B018
    assert culprit in str(info.value) and "\n" not in str(info.value)
    assert any(name in str(info.value) for name in files)


def test_a_max_length_beyond_the_position_embeddings_is_capped_and_said(tmp_path, capsys):
    folder = _tiny(tmp_path, sentence_transformers={"pooling": "mean", "max_seq_length": 4096})
    spec = Encoder(parse_model_arg(str(folder)), device="cpu").spec
    assert spec.max_length == 64 and "capped at the model's 64 positions" in spec.origin(
        "max_length"
    )
    long = " ".join(["cat"] * 500)
    assert run(Encoder(parse_model_arg(str(folder)), device="cpu").encode([long], "query")).shape
    xq = tmp_path / "xq"
    xq.mkdir()
    from ..core.cli.test_evaluate_and_search import write_xquad

    write_xquad(xq)
    assert (
        main(["eval", "--model", str(folder), "--xquad", str(xq), "--query-langs", "en", "-q"]) == 0
    )
    err = capsys.readouterr().err
    assert err.count("capped") == 1 and "clirlens: note:" in err


@pytest.mark.parametrize(
    "extra, culprit",
    [
        (["--eps", "1e-20"], "below 0.0001"),
        (["--eps", "nan"], "must be a positive number"),
    ],
)
def test_an_eps_the_solver_cannot_honour_is_refused(tmp_path, capsys, extra, culprit):
    folder = _tiny(tmp_path)
    code = main(["align", "the cat sat", "the cat sat on the mat", "--model", str(folder), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and culprit in err[0]


def test_an_unconverged_plan_is_an_error_unless_accepted(tmp_path, capsys):
    folder = _tiny(tmp_path)
    argv = ["align", "the cat sat on the mat", "a dog ran far", "--model", str(folder)]
    argv += ["--eps", "0.0002", "--max-iter", "20"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not converge" in err[0] and "--accept-unconverged" in err[0]
    assert main([*argv, "--accept-unconverged"]) == 0
    assert "NOT converged" in capsys.readouterr().out


def test_library_errors_are_one_line_without_unsafe_advice(tmp_path):
    folder = _tiny(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="clirlens-custom", auto_map={"AutoModel": "modeling.Custom"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling.py").write_text("raise SystemExit('this code must never run')\n")
    with pytest.raises(ModelError) as info:
        load(parse_model_arg(str(folder)), "cpu")
    message = str(info.value)
    assert str(folder) in message and "\n" not in message
    assert "trust_remote_code=True" not in message
    advice = (
        "Weights only load failed. Re-running `torch.load` with `weights_only=False` will "
        "likely succeed, but it can result in arbitrary code execution.\nMore text."
    )
    assert "weights_only=False" not in library_message(RuntimeError(advice))
    assert str(UserError("a\n   b")) == "a b"
