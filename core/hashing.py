"""Content identity: short stable hashes of JSON-able parts and SHA-256 of files (the keys of
caches and the checksums of downloads and manifests)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def fingerprint(*parts: object) -> str:
    """A short stable hash of JSON-serialisable parts."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()
