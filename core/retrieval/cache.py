"""On-disk cache of embeddings and FAISS indexes (docs/architecture.md §2).

An entry is a directory ``<cache>/<kind>/<key>/`` holding the payload file(s) and
``meta.json``, which records the fingerprints the key was made from and the sha256 and size
of every payload file. Writes go to a temporary sibling directory that is renamed into place
(atomic on one file system), so a reader sees a whole entry or none. On read, an entry whose
meta is missing or unreadable, whose fingerprints differ, or whose files fail their checksum
is reported, deleted and rebuilt: a partial or corrupted cache is never used silently.

A cache that cannot be written (read-only, disk full, a file where a folder should be) is
not an error: the work is done without keeping it, with one warning naming the folder, and
the cache stops trying to write for the rest of the run. A cache root that is a file is a
one-line :class:`~clirlens.core.errors.UserError` when it is opened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.hashing import file_sha256
from clirlens.core.paths import cache_dir

log = logging.getLogger(__name__)


class Cache:
    """A directory of checksummed entries. ``root`` defaults to :func:`cache_dir`."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root else cache_dir()
        if self.root.exists() and not self.root.is_dir():
            raise UserError(
                f"cache folder {self.root} is a file: point --cache-dir (or "
                "$CLIRLENS_CACHE_DIR) at a folder"
            )
        self.events: list[str] = []  # "hit:<key>", "miss:<key>", "corrupt:<key>" (for tests/UI)
        self.writable = True  # False after a write failed: the rest of the run computes only

    def _entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is there (not checked: :meth:`load` checks it)."""
        return (self._entry(kind, key) / "meta.json").is_file()

    def load(self, kind: str, key: str, meta_expected: dict) -> Path | None:
        """The entry's directory when it exists and is intact, else ``None`` (a damaged
        entry is removed so it gets rebuilt)."""
        entry = self._entry(kind, key)
        if not entry.exists():
            self.events.append(f"miss:{key}")
            return None
        if not entry.is_dir():  # something else wrote a file there: not an entry of ours
            log.warning("cache entry %s is not a folder; rebuilding it", entry)
            self.events.append(f"corrupt:{key}")
            with contextlib.suppress(OSError):
                entry.unlink()
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
        except (OSError, ValueError, RecursionError):
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

    def store(self, kind: str, key: str, meta: dict, write: Callable[[Path], None]) -> Path | None:
        """Create an entry atomically: ``write(tmpdir)`` writes the payload files. When the
        cache cannot be written the entry is not kept (one warning; None is returned)."""
        if not self.writable:
            return None
        final = self._entry(kind, key)
        try:
            return self._store(final, key, meta, write)
        except OSError as exc:
            self.writable = False
            log.warning(
                "cannot write the cache %s (%s): continuing without caching",
                self.root,
                exc.strerror or exc,
            )
            return None

    def _store(self, final: Path, key: str, meta: dict, write: Callable[[Path], None]) -> Path:
        if final.parent.exists() and not final.parent.is_dir():
            final.parent.unlink()  # a file where the kind's folder belongs
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
            if final.is_dir():  # a concurrent writer or a damaged entry: replace it
                shutil.rmtree(final, ignore_errors=True)
            elif final.exists():
                final.unlink()
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
