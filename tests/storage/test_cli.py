"""The storage subcommands through a parser built the way the top-level CLI builds it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from clirlens.core.errors import DataError, UserError
from clirlens.storage.cli import add_parsers


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="clirlens")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def qrels_files(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "alice.qrels"
    b = tmp_path / "bob.qrels"
    a.write_text("q1 0 d1 3\nq1 0 d2 0\nq2 0 d1 2\nq2 0 d3 1\n")
    b.write_text("q1 0 d1 3\nq1 0 d2 1\nq2 0 d1 2\nq2 0 d3 0\n")
    return a, b


def test_import_export_agreement_and_list(
    qrels_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    a, b = qrels_files
    assert (
        run_cli(
            "judgments", "import", str(a), "--campaign", "xq", "--annotator", "alice", "--db", url
        )
        == 0
    )
    assert "4 new, 0 changed, 0 unchanged; created the campaign" in capsys.readouterr().out
    assert (
        run_cli(
            "judgments", "import", str(b), "--campaign", "xq", "--annotator", "bob", "--db", url
        )
        == 0
    )
    capsys.readouterr()

    assert (
        run_cli(
            "judgments",
            "export",
            "--campaign",
            "xq",
            "--annotator",
            "bob",
            "--format",
            "trec",
            "--db",
            url,
        )
        == 0
    )
    assert capsys.readouterr().out == b.read_text()
    assert run_cli("judgments", "export", "--campaign", "xq", "--db", url) == 0
    # majority of two: ties go to the lower grade
    assert capsys.readouterr().out == "q1 0 d1 3\nq1 0 d2 0\nq2 0 d1 2\nq2 0 d3 0\n"
    assert (
        run_cli(
            "judgments",
            "export",
            "--campaign",
            "xq",
            "--aggregate",
            "mean",
            "--threshold",
            "2",
            "--db",
            url,
        )
        == 0
    )
    assert capsys.readouterr().out == "q1 0 d1 1\nq1 0 d2 0\nq2 0 d1 1\nq2 0 d3 0\n"

    assert run_cli("judgments", "agreement", "--campaign", "xq", "--db", url) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "campaign 'xq': 2 annotators (alice, bob), 4 items judged by two or more"
    assert out[1].startswith("Krippendorff's alpha (ordinal): 0.")
    assert out[2] == "weighted Cohen's kappa (quadratic):"
    # by hand: observed Σw·O = 1 + 1, expected Σw·E = 40/4 -> kappa = 1 - 2/10
    assert out[3].split() == ["alice", "/", "bob", "0.800", "(4", "items)"]

    assert run_cli("campaigns", "list", "--db", str(tmp_path / "team.sqlite")) == 0  # a path
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "campaign",
        "items",
        "judged",
        "annotators",
        "blind",
        "models",
        "created",
        "(UTC)",
    ]
    assert table[1].split()[:6] == ["xq", "4", "4", "(100%)", "alice,", "bob"]


def test_bad_input_is_a_one_line_user_error(
    qrels_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    db = ["--db", str(tmp_path / "j.sqlite")]
    bad = tmp_path / "bad.qrels"
    bad.write_text("q1 0 d1 3\nq1 d1 3\nq1 0 d2 high\n")
    with pytest.raises(
        DataError,
        match=r"bad.qrels: 2 bad lines, nothing imported: line 2: .*"
        r"line 3: grade 'high'",
    ):
        run_cli("judgments", "import", str(bad), "--campaign", "c", "--annotator", "a", *db)
    with pytest.raises(DataError, match="no such qrels file"):
        run_cli(
            "judgments",
            "import",
            str(tmp_path / "nope"),
            "--campaign",
            "c",
            "--annotator",
            "a",
            *db,
        )
    with pytest.raises(UserError, match="unknown campaign 'c'"):
        run_cli("judgments", "export", "--campaign", "c", *db)
    run_cli("judgments", "import", str(qrels_files[0]), "--campaign", "c", "--annotator", "a", *db)
    with pytest.raises(UserError, match="agreement needs at least two"):
        run_cli("judgments", "agreement", "--campaign", "c", *db)
    with pytest.raises(UserError, match="is not a SQLite database"):
        run_cli("campaigns", "list", "--db", str(qrels_files[0]))
    for argv in (
        ["judgments"],
        ["judgments", "import", "f.qrels"],
        ["campaigns"],
        ["judgments", "export", "--campaign", "c", "--format", "csv"],
    ):
        with pytest.raises(SystemExit) as info:
            run_cli(*argv)
        assert info.value.code == 2
    capsys.readouterr()


def test_empty_database_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert run_cli("campaigns", "list") == 0  # the default database, in CLIRLENS_DATA_DIR
    assert capsys.readouterr().err == "no campaigns yet\n"


def test_building_the_parser_imports_no_database_code():
    code = (
        "import argparse, sys\n"
        "from clirlens.storage.cli import add_parsers\n"
        "p = argparse.ArgumentParser(); add_parsers(p.add_subparsers())\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
