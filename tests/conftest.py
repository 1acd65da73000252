"""Shared fixtures: where the real test models and XQuAD are (skipped with a reason when
absent), and a temporary cache directory so no test touches the user's cache."""

from __future__ import annotations

import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def _env_dir(var: str) -> Path | None:
    value = os.environ.get(var)
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def xquad_dir() -> Path:
    path = _env_dir("CLIRLENS_XQUAD")
    if path is None:
        pytest.skip("CLIRLENS_XQUAD is not set to the XQuAD release folder (.ci/run sets it)")
    return path


@pytest.fixture(scope="session")
def test_models_dir() -> Path:
    path = _env_dir("CLIRLENS_TEST_MODELS")
    if path is None:
        pytest.skip("CLIRLENS_TEST_MODELS is not set (build them with ../shared/tools/test-models)")
    return path


def _model(test_models_dir: Path, name: str) -> Path:
    path = test_models_dir / name
    if not (path / "config.json").is_file():
        pytest.skip(f"test model {name} missing under {test_models_dir}")
    return path


@pytest.fixture(scope="session")
def me5_dir(test_models_dir: Path) -> Path:
    return _model(test_models_dir, "multilingual-e5-small")


@pytest.fixture(scope="session")
def minilm_dir(test_models_dir: Path) -> Path:
    return _model(test_models_dir, "all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def enpt_dir(test_models_dir: Path) -> Path:
    return _model(test_models_dir, "e5-small-enpt")


@pytest.fixture(scope="session")
def fast_dtype() -> str:
    """The faster encoder precision on this CPU: bf16 where oneDNN's bf16 kernels run
    (AVX512 or AMX), else fp32 (bf16 products would be emulated, several times slower)."""
    from clirlens.core.models.packed import bf16_is_native

    return "bf16" if bf16_is_native() else "fp32"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own cache and data directory unless it asks otherwise."""
    monkeypatch.setenv("CLIRLENS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("CLIRLENS_DATA_DIR", str(tmp_path_factory.mktemp("data")))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def serve(monkeypatch):
    """serve(folder) -> base URL of an HTTP server on 127.0.0.1 for that folder (for the
    download code, which cannot reach the real release here)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
