"""Downloading the XQuAD release, against a local HTTP server on 127.0.0.1 serving the
real files (CLIRLENS_XQUAD) — and a corrupted copy, which must be refused."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from clirlens.core.data.download import XQUAD_FILES, XQUAD_URL, download_xquad
from clirlens.core.errors import DataError
from clirlens.core.progress import run


def test_pinned_checksums_are_the_release(xquad_dir: Path) -> None:
    assert XQUAD_URL.startswith("https://raw.githubusercontent.com/deepmind/xquad/")
    assert len(XQUAD_FILES) == 12
    for name, (sha, size) in XQUAD_FILES.items():
        data = (xquad_dir / name).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (sha, size)


def test_download_verifies_and_reports_progress(xquad_dir: Path, tmp_path: Path, serve) -> None:
    url = serve(xquad_dir)
    progress = []
    dest = run(download_xquad(tmp_path / "x", base_url=url), progress.append)
    assert dest == tmp_path / "x"
    for name in XQUAD_FILES:
        assert (dest / name).read_bytes() == (xquad_dir / name).read_bytes()
    assert not list(dest.glob(".*"))  # no .part leftovers
    total = sum(size for _, size in XQUAD_FILES.values())
    assert all(p.total == total for p in progress)
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert progress[-1].done == total
    # a second run keeps the verified files and downloads nothing
    again = []
    run(download_xquad(dest, base_url="http://127.0.0.1:9/"), again.append)
    assert sum("already present" in p.message for p in again) == 12


def test_wrong_checksum_is_refused(xquad_dir: Path, tmp_path: Path, serve) -> None:
    bad = tmp_path / "served"
    shutil.copytree(xquad_dir, bad)
    data = bytearray((bad / "xquad.el.json").read_bytes())
    data[1000] ^= 1  # one flipped bit, same size
    (bad / "xquad.el.json").write_bytes(bytes(data))
    dest = tmp_path / "x"
    with pytest.raises(DataError, match=r"xquad\.el\.json .* fails its checksum") as info:
        run(download_xquad(dest, base_url=serve(bad)))
    assert "\n" not in str(info.value)
    assert not (dest / "xquad.el.json").exists()
    assert not list(dest.glob(".*"))
    assert (dest / "xquad.de.json").is_file()  # files before it were verified and kept


def test_unreachable_and_http_errors(tmp_path: Path, serve) -> None:
    with pytest.raises(DataError, match=r"cannot download .* internet connection"):
        run(download_xquad(tmp_path / "a", base_url="http://127.0.0.1:9/", timeout=2))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="HTTP 404"):
        run(download_xquad(tmp_path / "b", base_url=serve(empty)))


def test_cancel_leaves_no_partial_file(xquad_dir: Path, tmp_path: Path, serve) -> None:
    job = download_xquad(tmp_path / "x", base_url=serve(xquad_dir))
    for p in job:
        if p.message.startswith("downloading xquad.ar"):
            break
    job.close()
    assert not list((tmp_path / "x").iterdir())
