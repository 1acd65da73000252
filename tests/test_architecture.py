"""The layers of DESIGN.md §1 are enforced by import-linter contracts (pyproject.toml).

The editable install maps core/ -> clirlens.core through an import hook that import-linter's
graph builder cannot walk, so the check runs over a temporary tree of symlinks that
presents the folders as the ``clirlens`` namespace package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint(tree: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def _tree(tmp_path: Path, copy: bool = False) -> Path:
    pkg = tmp_path / "clirlens"
    pkg.mkdir()
    for layer in ("core", "storage", "gui"):
        if copy:
            shutil.copytree(ROOT / layer, pkg / layer, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (pkg / layer).symlink_to(ROOT / layer)
    return tmp_path


def test_layer_contracts_are_kept(tmp_path):
    if shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("import-linter is not installed (dev extra)")
    result = _lint(_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_a_qt_import_in_core_breaks_the_contract(tmp_path):
    if shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("import-linter is not installed (dev extra)")
    tree = _tree(tmp_path, copy=True)
    (tree / "clirlens" / "core" / "_violation.py").write_text(
        "def f():\n    from PySide6 import QtCore\n    return QtCore\n"
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
