"""Faults at the command line and in the caches: one line in clirlens' words, exit 2, no
traceback, nothing changed that should not be; a cache that cannot be written only costs
time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from clirlens.core.cli.main import main
from clirlens.core.errors import UserError
from clirlens.core.retrieval.cache import Cache

from ..core.cli.test_evaluate_and_search import write_xquad
from ..core.tiny_models import make_tiny_bert

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(tmp_path_factory.mktemp("m") / "tiny", seed=8)


@pytest.fixture()
def xq(tmp_path):
    return write_xquad(tmp_path / "xq")


def _one_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("clirlens: error: ") and "Traceback" not in err[0]
    for fragment in fragments:
        assert fragment in err[0]
    return err[0]


def _eval(tiny, xq, *extra: str) -> int:
    return main(
        ["eval", "--model", str(tiny), "--xquad", str(xq), "--query-langs", "en", "-q", *extra]
    )


def test_out_is_checked_before_any_work(tmp_path, tiny, xq, capsys, monkeypatch):
    cache = tmp_path / "cache"
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me\n")
    assert _eval(tiny, xq, "--out", str(a_file), "--cache-dir", str(cache)) == 2
    _one_line(capsys, str(a_file), "is a file")
    assert a_file.read_text() == "keep me\n"

    def denied(*args, **kwargs):  # a read-only folder (root may write anywhere: simulated)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("clirlens.core.workspace.results.tempfile.NamedTemporaryFile", denied)
    assert _eval(tiny, xq, "--out", str(tmp_path / "out"), "--cache-dir", str(cache)) == 2
    _one_line(capsys, "cannot be written", "Permission denied")
    assert not cache.exists()  # refused before anything was encoded


def test_a_used_out_is_refused_unless_forced_and_then_no_stale_file_stays(
    tmp_path, tiny, xq, capsys
):
    out = tmp_path / "out"
    assert _eval(tiny, xq, "--model", f"me5-small={tiny}", "--out", str(out)) == 0
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == 2
    metrics = (out / "metrics.json").read_text()
    capsys.readouterr()
    assert _eval(tiny, xq, "--out", str(out)) == 2
    _one_line(capsys, "not empty", "--force")
    assert (out / "metrics.json").read_text() == metrics  # untouched
    (out / "my-notes.txt").write_text("mine\n")
    assert _eval(tiny, xq, "--out", str(out), "--force") == 0
    assert len(list((out / "runs").iterdir())) == 1  # the second model's run is gone
    assert (out / "my-notes.txt").read_text() == "mine\n"  # not clirlens' file: kept


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--device", "quantum"], "'quantum' is not a device"),
        (["--query-langs", "t h"], "is not a language code"),
        (["--query-langs", "qq"], "'qq'"),
    ],
)
def test_bad_values_are_one_line(tiny, xq, capsys, argv, fragment):
    assert _eval(tiny, xq, *argv) == 2
    _one_line(capsys, fragment)


def test_cuda_on_a_cpu_only_torch_is_refused_even_with_a_warm_cache(tmp_path, tiny, xq, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cache = tmp_path / "cache"
    assert _eval(tiny, xq, "--cache-dir", str(cache)) == 0  # warm
    capsys.readouterr()
    assert _eval(tiny, xq, "--cache-dir", str(cache), "--device", "cuda") == 2
    _one_line(capsys, "--device cuda", "no usable CUDA")


def test_language_codes_are_case_insensitive(tiny, xq, capsys):
    assert _eval(tiny, xq, "--doc-langs", "EN", "--json") == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["doc_lang"] for r in records} == {"en"}


def test_a_cache_entry_that_is_a_file_is_rebuilt(tmp_path, tiny, xq, capsys):
    cache = tmp_path / "cache"
    assert _eval(tiny, xq, "--cache-dir", str(cache), "--json") == 0
    first = capsys.readouterr().out
    import shutil

    for entry in (cache / "embeddings").iterdir():
        shutil.rmtree(entry)
        entry.write_text("not an entry")
    shutil.rmtree(cache / "search")  # so the queries' embeddings are needed again too
    assert _eval(tiny, xq, "--cache-dir", str(cache), "--json") == 0
    assert capsys.readouterr().out == first
    assert all(e.is_dir() for e in (cache / "embeddings").iterdir())


def test_a_cache_dir_that_is_a_file_is_one_line(tmp_path, tiny, xq, capsys):
    target = tmp_path / "cache"
    target.write_text("x")
    assert _eval(tiny, xq, "--cache-dir", str(target)) == 2
    _one_line(capsys, str(target), "is a file")


def test_a_cache_that_cannot_be_written_computes_with_one_warning(
    tmp_path, tiny, xq, capsys, monkeypatch
):
    import tempfile as real_tempfile

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("clirlens.core.retrieval.cache.tempfile.mkdtemp", full)
    assert _eval(tiny, xq, "--cache-dir", str(tmp_path / "cache"), "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)  # the results are there
    warnings = [line for line in captured.err.splitlines() if line.startswith("clirlens: warning:")]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
    assert "continuing without caching" in warnings[0]
    assert real_tempfile  # (the module itself is untouched)


def test_cache_store_failure_leaves_no_entry_behind(tmp_path):
    cache = Cache(tmp_path / "c")

    def write(folder):
        (folder / "array.npy").write_bytes(b"x" * 10)
        raise OSError(28, "No space left on device")

    assert cache.store("embeddings", "k", {"a": 1}, write) is None
    assert not cache.writable and not any((tmp_path / "c" / "embeddings").iterdir())
    with pytest.raises(UserError, match="is a file"):
        (tmp_path / "f").write_text("")
        Cache(tmp_path / "f")


def test_deeply_nested_json_is_one_line(tmp_path, tiny, capsys):
    folder = tmp_path / "xq"
    folder.mkdir()
    (folder / "xquad.en.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["eval", "--model", str(tiny), "--xquad", str(folder), "--query-langs", "en"]) == 2
    _one_line(capsys, "xquad.en.json", "nested too deeply")


def test_broken_pipe_is_quiet(tmp_path, xq):
    code = (
        "import sys; from clirlens.core.cli.main import main; "
        f"sys.exit(main(['search', 'the cat', '--model', 'bm25', '--xquad', {str(xq)!r}, "
        "'--doc-langs', 'en', '-q']))"
    )
    done = subprocess.run(
        f'{sys.executable} -c "{code}" | head -c 1',
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_a_screenshot_folder_that_cannot_be_made_is_one_line(tmp_path, xq, tiny, capsys):
    from clirlens.gui.shell import entry

    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["--xquad", str(xq), "--model", str(tiny), "--model", "bm25"]
    argv += ["--screenshot", str(blocker / "shot.png")]
    assert entry.main(argv) == 2
    _one_line(capsys, "cannot create the folder")


def test_the_offline_hub_advice_is_a_command_that_works(monkeypatch):
    from clirlens.core.models.loading import resolve
    from clirlens.core.models.spec import parse_model_arg

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    with pytest.raises(UserError) as info:
        resolve(parse_model_arg("intfloat/multilingual-e5-small"))
    assert "--model me5-small=/path/to/model" in str(info.value)
    with pytest.raises(UserError) as info:
        resolve(parse_model_arg("someone/some-model"))
    message = str(info.value)
    assert "--model /path/to/model" in message and "some-model=" not in message


def test_usage_errors_are_one_line(capsys):
    assert main(["eval", "--model", "bm25", "--xquad", "x", "--no-such-flag"]) == 2
    _one_line(capsys, "unrecognized arguments: --no-such-flag", "--help")


def _report(tiny, xq, *extra: str) -> int:
    base = ["report", "--model", str(tiny), "--model", f"me5-small={tiny}", "--xquad", str(xq)]
    return main([*base, "--query-langs", "xx", "-q", *extra])


def _error_line(capsys, *fragments: str) -> None:
    """One error line (notes about guessed model conventions may come before it)."""
    err = [x for x in capsys.readouterr().err.splitlines() if not x.startswith("clirlens: note:")]
    assert len(err) == 1 and err[0].startswith("clirlens: error: "), err
    assert all(f in err[0] for f in fragments), err[0]


def test_report_faults_are_one_line_and_change_nothing(tmp_path, tiny, xq, capsys):
    page = tmp_path / "page.html"
    page.write_text("mine\n")
    assert _report(tiny, xq, "--out", str(page)) == 2
    _error_line(capsys, str(page), "exists", "--force")
    assert page.read_text() == "mine\n"
    assert _report(tiny, xq, "--out", str(tmp_path)) == 2
    _error_line(capsys, "is a folder")
    assert _report(tiny, xq, "--out", str(tmp_path / "p.html"), "--queries", "nope") == 2
    _error_line(capsys, "query 'nope' is not in", "ids look like")
    assert _report(tiny, xq, "--out", str(tmp_path / "p.html"), "--queries", " , ") == 2
    _error_line(capsys, "--queries is empty")
    assert not (tmp_path / "p.html").exists()
    one = ["report", "--model", str(tiny), "--xquad", str(xq), "--query-langs", "xx"]
    assert main([*one, "--out", str(tmp_path / "p.html"), "-q"]) == 2
    _error_line(capsys, "needs two models")
    assert _report(tiny, xq, "--out", str(page), "--force") == 0  # and it works
    assert "<!DOCTYPE html>" in page.read_text()
