"""Downloading the official XQuAD release (deepmind/xquad on GitHub), verified.

The twelve ``xquad.{lang}.json`` files are pinned by size and SHA-256 (computed from the
release: a changed or corrupted file is refused, never used). :func:`download_xquad` is a
generator (yields :class:`Progress` by bytes, returns the folder): each file is streamed
into a hidden ``.part`` file beside its destination, hashed on the way, and renamed into
place only when its checksum matches, so an interrupted or cancelled download leaves no
half-written ``xquad.*.json``. Files already present with the right checksum are kept.
Only the standard library is used (``urllib``; proxies from the environment apply).
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from clirlens.core.errors import DataError
from clirlens.core.hashing import file_sha256
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Progress

XQUAD_URL = "https://raw.githubusercontent.com/deepmind/xquad/master/"
XQUAD_REPO = "https://github.com/deepmind/xquad"

# file name -> (sha256, size in bytes) of the release
XQUAD_FILES: Mapping[str, tuple[str, int]] = {
    "xquad.ar.json": ("abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d", 1582988),
    "xquad.de.json": ("990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9", 669810),
    "xquad.el.json": ("821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e", 1918889),
    "xquad.en.json": ("e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29", 609383),
    "xquad.es.json": ("dcbae93ec3a9f4b9e78fd834a171d6f96c1a875e10e15b7530b7e4ef4971e37e", 684322),
    "xquad.hi.json": ("df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24", 1680538),
    "xquad.ro.json": ("94f8d54e93ad2b7dd2e76dd921a666b5b8eff2d4379df9f179c42b445f09643f", 661158),
    "xquad.ru.json": ("208d5b1aa154c52b1b5c5eda16281e455e8fd198cdb9af3f469f0d6037d973bf", 1896368),
    "xquad.th.json": ("5cdda11d0e1e075f7872abf4e6ae830388ce7f617964d542308e9ae4257e0f43", 1809143),
    "xquad.tr.json": ("92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc", 729506),
    "xquad.vi.json": ("f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04", 911401),
    "xquad.zh.json": ("691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835", 808652),
}

_CHUNK = 1 << 16


def _intact(path: Path, sha256: str, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size and file_sha256(path) == sha256


def download_xquad(
    dest: str | os.PathLike[str],
    *,
    base_url: str = XQUAD_URL,
    files: Mapping[str, tuple[str, int]] = XQUAD_FILES,
    timeout: float = 30.0,
) -> Job[Path]:
    """Download the release into ``dest`` (created if needed) and return it.

    Raises :class:`DataError` naming the file when the server cannot be reached, answers
    with an error, or sends bytes whose SHA-256 differs from the pinned one (nothing of that
    file is kept).
    """
    folder = Path(dest).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the download folder {folder} ({exc.strerror})") from None
    total = sum(size for _, size in files.values())
    done = 0
    tick = Throttle(0.1)
    yield Progress(0, total, "downloading XQuAD", unit="bytes")
    for name, (sha256, size) in files.items():
        target = folder / name
        if _intact(target, sha256, size):
            done += size
            yield Progress(done, total, f"{name} already present", unit="bytes")
            continue
        url = base_url.rstrip("/") + "/" + name
        part = folder / f".{name}.part"
        digest = hashlib.sha256()
        got = 0
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "clirlens"})
            with (
                urllib.request.urlopen(request, timeout=timeout) as response,
                part.open("wb") as out,
            ):
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    got += len(chunk)
                    if tick():
                        yield Progress(
                            done + min(got, size), total, f"downloading {name}", unit="bytes"
                        )
            if digest.hexdigest() != sha256:
                raise DataError(
                    f"{name} from {url} fails its checksum (sha256 {digest.hexdigest()[:16]}…, "
                    f"expected {sha256[:16]}…, {got} bytes): not saved; the download was "
                    "corrupted or the file changed upstream"
                )
            os.replace(part, target)
        except urllib.error.HTTPError as exc:
            raise DataError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DataError(
                f"cannot download {url} ({reason}): check the internet connection, or copy "
                f"the xquad.*.json files of {XQUAD_REPO} into a folder and open that "
                "folder as an XQuAD dataset"
            ) from None
        finally:
            part.unlink(missing_ok=True)  # also on cancel (GeneratorExit at a yield)
        done += size
        yield Progress(done, total, f"{name} verified", unit="bytes")
    return folder
