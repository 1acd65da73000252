"""Model choices: presets, remembered folders, the Hugging Face cache; the offline note."""

from __future__ import annotations

import json
from pathlib import Path

from clirlens.core.models.catalog import (
    hf_cache_models,
    hub_offline,
    is_model_dir,
    model_choices,
    offline_help,
)


def _model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (path / "model.safetensors").write_bytes(b"x")
    return path


def _hf_cache(root: Path, repo_id: str) -> Path:
    repo = root / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = _model_dir(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (repo / "blobs").mkdir()
    return snapshot


def test_hf_cache_scan_and_absence(tmp_path: Path) -> None:
    assert hf_cache_models(tmp_path / "missing") == {}
    root = tmp_path / "hub"
    snap = _hf_cache(root, "intfloat/multilingual-e5-small")
    _hf_cache(root, "someone/other-model")
    found = hf_cache_models(root)
    assert found["intfloat/multilingual-e5-small"] == snap
    assert set(found) == {"intfloat/multilingual-e5-small", "someone/other-model"}


def test_choices_mark_what_is_local(tmp_path: Path) -> None:
    folder = _model_dir(tmp_path / "my-model")
    cache = {"intfloat/multilingual-e5-small": tmp_path, "org/extra": tmp_path}
    choices = model_choices([str(folder), str(folder), str(tmp_path / "gone")], cache)
    by_arg = {c.arg: c for c in choices}
    assert by_arg["me5-small"].local and by_arg["me5-small"].origin == "preset"
    assert not by_arg["webfaq"].local
    assert by_arg["bm25"].local
    assert by_arg[str(folder.resolve())].origin == "folder"
    assert by_arg["org/extra"].origin == "hf-cache"
    assert "intfloat/multilingual-e5-small" not in by_arg  # shown as its preset
    assert sum(c.origin == "folder" for c in choices) == 1  # duplicates and missing dropped
    assert is_model_dir(folder) and not is_model_dir(tmp_path)
    assert offline_help(choices, offline=True) is None  # two dense models are local


def test_offline_with_nothing_local_says_what_to_do(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_offline()
    choices = model_choices([], cache={})
    note = offline_help(choices)
    assert note is not None and note.startswith("Offline (HF_HUB_OFFLINE is set)")
    assert "hf download intfloat/multilingual-e5-small" in note
    assert "Add model folder" in note
    monkeypatch.delenv("HF_HUB_OFFLINE")
    online = offline_help(choices)
    assert online is not None and "download on first use" in online
