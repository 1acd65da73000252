"""The ``clirlens`` entry point: --help imports neither torch nor PySide6, subcommands go to
the CLI, bad input exits 2 with one line, --screenshot renders a view and exits 0."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from clirlens.gui.shell import entry
from clirlens.gui.shell.app import SCREENSHOT_SIZE
from clirlens.gui.shell.registry import VIEWS

from ..conftest import SUBSET


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_help_imports_neither_torch_nor_qt():
    out = _python(
        "import sys\n"
        "from clirlens.gui.shell.entry import main\n"
        "rc = main(['--help'])\n"
        "heavy = sorted(m for m in ('torch', 'PySide6', 'transformers', 'superqt', "
        "'pyqtgraph', 'sqlalchemy') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(rc)\n"
    )
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    assert "--xquad DIR" in out.stdout and "--screenshot FILE" in out.stdout
    for command in ("eval", "search"):
        assert command in out.stdout


def test_console_script_help_is_fast_to_import():
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "from clirlens.gui.shell.entry import main; main(['--help'])",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0
    imported = {
        line.split("|")[-1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert not {m for m in imported if m.split(".")[0] in ("torch", "PySide6")}


def test_subcommands_go_to_the_cli(capsys):
    assert entry.main(["search", "--help"]) == 0
    assert "usage: clirlens search" in capsys.readouterr().out
    parser = entry.build_app_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = set(sub.choices)
    assert {"eval", "index", "search"} <= names
    try:
        import clirlens.storage.cli  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        assert {"judgments", "campaigns"} <= names


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--xquad", "/no/such/dir", "--model", "bm25", "--model", "bm25"],
            "XQuAD folder not found",
        ),
        (["--model", "bm25"], "--model needs a dataset"),
        (["--screenshot", "x.png"], "--screenshot needs a workspace"),
        (["--beir", "/no/such", "--model", "bm25", "--model", "bm25"], "BEIR folder not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert entry.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("clirlens: error: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.xquad
def test_unknown_preset_and_language(xquad_dir, capsys):
    assert entry.main(["--xquad", str(xquad_dir), "--model", "nosuch=/x", "--model", "bm25"]) == 2
    assert "unknown preset 'nosuch'" in capsys.readouterr().err
    assert (
        entry.main(
            ["--xquad", str(xquad_dir), "--model", "bm25", "--model", "bm25", "--query-langs", "xx"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "language 'xx' not in" in err and err.count("\n") == 1
    assert entry.main(["--view", "nosuchview"]) == 2  # argparse's own usage error
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.models
@pytest.mark.xquad
def test_screenshot_renders_the_view(xquad_dir, model_args, tmp_path, use_shared_cache, fast_dtype):
    png = tmp_path / "shots" / "compare.png"
    argv = [
        "--xquad",
        str(xquad_dir),
        "--model",
        model_args[0],
        "--model",
        model_args[1],
        "--query-langs",
        "th",
        "--doc-langs",
        "en",
        "--subset",
        str(SUBSET),
        "--dtype",
        fast_dtype,
        "--screenshot",
        str(png),
        "--view",
        "compare",
    ]
    assert "compare" in VIEWS
    assert entry.main(argv) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    # not a blank picture: many distinct colours (text, badges, highlights)
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 50
