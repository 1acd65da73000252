"""The layers of docs/architecture.md §1 are enforced by import-linter contracts (pyproject.toml), and
no two project modules import each other, directly or through others (no import cycles).

The editable install maps core/ -> clirlens.core through an import hook that import-linter's
graph builder cannot walk, so the check runs over a temporary tree of symlinks that
presents the folders as the ``clirlens`` namespace package.
"""

from __future__ import annotations

import json
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
        [exe, str(ROOT / "pyproject.toml"), "--no-cache"],
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
    assert "5 kept, 0 broken" in result.stdout


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


def _cycles(tree: Path) -> list[list[str]]:
    """Strongly connected groups of two or more project modules (import cycles), over every
    import: module level, inside functions and under TYPE_CHECKING alike."""
    code = """
import json, sys, grimp
g = grimp.build_graph("clirlens", cache_dir=None)
print(json.dumps({m: sorted(i for i in g.find_modules_directly_imported_by(m)
                            if i.startswith("clirlens.")) for m in g.modules}))
"""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    graph = json.loads(out)
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_import_cycles_between_project_modules(tmp_path):
    pytest.importorskip("grimp")
    assert _cycles(_tree(tmp_path)) == []


def test_a_cycle_is_found(tmp_path):
    pytest.importorskip("grimp")
    tree = _tree(tmp_path, copy=True)
    (tree / "clirlens" / "core" / "_a.py").write_text(
        "def f():\n    from clirlens.core import _b\n"
    )
    (tree / "clirlens" / "core" / "_b.py").write_text("from clirlens.core import _a\n")
    assert ["clirlens.core._a", "clirlens.core._b"] in _cycles(tree)
