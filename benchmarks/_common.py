"""Where benchmarks find the test models and XQuAD (same variables as the tests)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_model(name: str) -> Path:
    root = Path(
        os.environ.get("CLIRLENS_TEST_MODELS", Path.home() / ".cache" / "clirlens-test-models")
    )
    path = root / name
    if not (path / "config.json").is_file():
        sys.exit(f"benchmark needs the test model {path} (run ../shared/tools/test-models)")
    return path


def xquad_dir() -> Path:
    path = Path(os.environ.get("CLIRLENS_XQUAD", HERE.parent.parent / "shared/data/xquad"))
    if not (path / "xquad.en.json").is_file():
        sys.exit(f"benchmark needs XQuAD at {path} (set CLIRLENS_XQUAD)")
    return path
