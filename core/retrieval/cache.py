"""On-disk cache of embeddings and FAISS indexes (docs/architecture.md §2).

An entry is a directory ``<cache>/<kind>/<key>/`` holding the payload file(s) and
``meta.json``, which records the fingerprints the key was made from and the sha256 and size
of every payload file. Writes go to a temporary sibling directory that is renamed into place
(atomic on one file system), so a reader sees a whole entry or none. On read, an entry whose
meta is missing or unreadable, whose fingerprints differ, or whose files fail their checksum
is reported, deleted and rebuilt: a partial or corrupted cache is never used silently.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clirlens.core.hashing import file_sha256
from clirlens.core.paths import cache_dir

log = logging.getLogger(__name__)


class Cache:
    """A directory of checksummed entries. ``root`` defaults to :func:`cache_dir`."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root else cache_dir()
        self.events: list[str] = []  # "hit:<key>", "miss:<key>", "corrupt:<key>" (for tests/UI)

    def _entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def load(self, kind: str, key: str, meta_expected: dict) -> Path | None:
        """The entry's directory when it exists and is intact, else ``None`` (a damaged
        entry is removed so it gets rebuilt)."""
        entry = self._entry(kind, key)
        if not entry.exists():
            self.events.append(f"miss:{key}")
            return None
        problem = self._check(entry, meta_expected)
        if problem is None:
            self.events.append(f"hit:{key}")
            return entry
        log.warning("cache entry %s is damaged (%s); rebuilding it", entry, problem)
        self.events.append(f"corrupt:{key}")
        shutil.rmtree(entry, ignore_errors=True)
        return None

    def _check(self, entry: Path, meta_expected: dict) -> str | None:
        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (OSError, ValueError):
            return "meta.json missing or unreadable"
        for k, v in meta_expected.items():
            if meta.get(k) != v:
                return f"{k} differs"
        for name, info in meta.get("files", {}).items():
            f = entry / name
            if not f.is_file() or f.stat().st_size != info["size"]:
                return f"{name} missing or truncated"
            if file_sha256(f) != info["sha256"]:
                return f"{name} fails its checksum"
        if not meta.get("files"):
            return "no payload recorded"
        return None

    def store(self, kind: str, key: str, meta: dict, write: Callable[[Path], None]) -> Path:
        """Create an entry atomically: ``write(tmpdir)`` writes the payload files."""
        final = self._entry(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            write(tmp)
            files = {
                p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)}
                for p in sorted(tmp.iterdir())
                if p.is_file()
            }
            full = {**meta, "files": files, "created": time.time()}
            (tmp / "meta.json").write_text(json.dumps(full, indent=1, sort_keys=True))
            if final.exists():  # a concurrent writer or a damaged entry: replace it
                shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    # -- arrays ------------------------------------------------------------------------------
    def load_array(self, kind: str, key: str, meta_expected: dict) -> np.ndarray | None:
        entry = self.load(kind, key, meta_expected)
        if entry is None:
            return None
        return np.load(entry / "array.npy", allow_pickle=False)

    def store_array(self, kind: str, key: str, meta: dict, array: np.ndarray) -> None:
        self.store(
            kind,
            key,
            meta,
            lambda d: np.save(d / "array.npy", np.ascontiguousarray(array), allow_pickle=False),
        )
